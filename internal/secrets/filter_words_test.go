package secrets

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// White-box: the word splitter behind the description and all filters.
func TestFilterWordSplitting(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		// moto test_word_splitter (the splitting its aws_verified tests rely on).
		{"test", []string{"test"}},
		{"my test", []string{"my", "test"}},
		{"Mytest", []string{"Mytest"}},
		{"MyTest", []string{"My", "Test"}},
		{"MyTestPhrase", []string{"My", "Test", "Phrase"}},
		{"myTest", []string{"my", "Test"}},
		{"my/test", []string{"my", "test"}},
		// moto aws_verified test_with_all_filter_special_characters.
		{"uat/COMPANYthings/7c4e1a", []string{"uat", "COMPAN", "Ythings", "7c4e1a"}},
		{"uat/COMPANY/7c4e1a", []string{"uat", "COMPANY", "7c4e1a"}},
		{"prod/AppBeta/x", []string{"prod", "App", "Beta", "x"}},
		{"a_b+c=d.e@f-g", []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"SecretFTag3f2a1c", []string{"Secret", "F", "Tag3f2a1c"}},
		// Separators only, empty.
		{"+", nil},
		{"", nil},
		{" /_+=.@-:!# ", nil},
		// Digits do not split words; other characters do.
		{"abc123def", []string{"abc123def"}},
		{"creds#892", []string{"creds", "892"}},
		{"ABC", []string{"ABC"}},
		{"iOS", []string{"i", "OS"}},
		{"ABCd", []string{"AB", "Cd"}},
		// Non-ASCII letters are letters; invalid UTF-8 separates.
		{"ÄrgerÜber straße", []string{"Ärger", "Über", "straße"}},
		{"a\xffb", []string{"a", "b"}},
	}
	for _, tc := range cases {
		var got []string
		for i := 0; ; {
			start, end := fltNextWord(tc.in, i)
			if start == end {
				break
			}
			got = append(got, tc.in[start:end])
			i = end
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("words of %q (-want +got):\n%s", tc.in, diff)
		}
	}
}
