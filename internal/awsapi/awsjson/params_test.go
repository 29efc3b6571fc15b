package awsjson_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
)

func TestParams(t *testing.T) {
	type tag struct{ Key *string }
	tagParams := func(t *tag) map[string]any {
		p := make(awsjson.Params, 1)
		p.String("key", t.Key)
		return p
	}
	list := []string{"a"}
	ctx := map[string]string{"SecretARN": "arn"}
	p := make(awsjson.Params)
	p.String("secretId", ptr("s"))
	p.String("absent", nil)
	p.Int("maxResults", ptr(int64(0)))
	p.Bool("force", ptr(false))
	p.Float("f", ptr(1.5))
	p.Time("t", awsjson.TimeOf(time.Unix(1523923200, 0)))
	awsjson.SetList(p, "stages", list)
	awsjson.SetList[string](p, "nilList", nil)
	awsjson.SetMap(p, "encryptionContext", ctx)
	awsjson.SetObject(p, "rules", &tag{Key: ptr("k")}, tagParams)
	awsjson.SetObject(p, "nilRules", nil, tagParams)
	awsjson.SetObjects(p, "tags", []tag{{Key: ptr("k")}, {}}, tagParams)
	awsjson.SetObjects(p, "emptyTags", []tag{}, tagParams)

	list[0] = "changed"
	ctx["SecretARN"] = "changed"

	got, err := json.Marshal(p.OrNil())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"emptyTags":[],"encryptionContext":{"SecretARN":"arn"},"f":1.5,"force":false,"maxResults":0,` +
		`"rules":{"key":"k"},"secretId":"s","stages":["a"],"t":1523923200,"tags":[{"key":"k"},{}]}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	if (awsjson.Params{}).OrNil() != nil {
		t.Error("empty Params.OrNil() != nil")
	}
}
