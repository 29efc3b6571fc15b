package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// wantAPIError checks an AWS error code and message ("*" = any message).
// wantKMSError checks an API error: code, and message (exactly; "*" = any).
func wantKMSError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || (msg != "*" && ae.ErrorMessage() != msg) {
		t.Fatalf("error %s: %q, want %s: %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// call runs one SDK operation and fails the test on error.
func call[I, O any](t *testing.T, op func(context.Context, I, ...func(*kms.Options)) (O, error), in I) O {
	t.Helper()
	out, err := op(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func newKMSKey(t *testing.T, c *kms.Client, desc string) *types.KeyMetadata {
	t.Helper()
	out, err := c.CreateKey(ctx(t), &kms.CreateKeyInput{Description: aws.String(desc)})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata
}

// TestKMSAPI drives every supported KMS operation through aws-sdk-go-v2.
func TestKMSAPI(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := s.kms()

	t.Run("CreateDescribeList", func(t *testing.T) {
		out := call(t, c.CreateKey, &kms.CreateKeyInput{
			Description: aws.String("app key"),
			Tags:        []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("payments")}},
		})
		md := out.KeyMetadata
		if !md.Enabled || md.KeyState != types.KeyStateEnabled || md.KeyManager != types.KeyManagerTypeCustomer ||
			md.KeySpec != types.KeySpecSymmetricDefault || md.CustomerMasterKeySpec != types.CustomerMasterKeySpecSymmetricDefault ||
			md.KeyUsage != types.KeyUsageTypeEncryptDecrypt || md.Origin != types.OriginTypeAwsKms ||
			aws.ToString(md.Description) != "app key" || aws.ToBool(md.MultiRegion) || md.DeletionDate != nil ||
			len(md.EncryptionAlgorithms) != 1 || md.EncryptionAlgorithms[0] != types.EncryptionAlgorithmSpecSymmetricDefault ||
			!hex64.MatchString(aws.ToString(md.CurrentKeyMaterialId)) || md.CreationDate == nil {
			t.Fatalf("KeyMetadata %+v", md)
		}
		if want := "arn:aws:kms:us-east-1:" + aws.ToString(md.AWSAccountId) + ":key/" + aws.ToString(md.KeyId); aws.ToString(md.Arn) != want {
			t.Fatalf("Arn %s, want %s", aws.ToString(md.Arn), want)
		}
		call(t, c.CreateAlias, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: md.KeyId})
		aliasARN := "arn:aws:kms:us-east-1:" + aws.ToString(md.AWSAccountId) + ":alias/app"
		for _, ref := range []string{aws.ToString(md.KeyId), aws.ToString(md.Arn), "alias/app", aliasARN} {
			d := call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
			if aws.ToString(d.KeyMetadata.KeyId) != aws.ToString(md.KeyId) {
				t.Fatalf("DescribeKey(%s) = %s", ref, aws.ToString(d.KeyMetadata.KeyId))
			}
		}
		// ListKeys, one per page, with markers.
		seen := map[string]bool{}
		var marker *string
		for {
			p := call(t, c.ListKeys, &kms.ListKeysInput{Limit: aws.Int32(1), Marker: marker})
			for _, k := range p.Keys {
				seen[aws.ToString(k.KeyId)] = true
				if aws.ToString(k.KeyArn) == "" {
					t.Fatal("ListKeys entry without KeyArn")
				}
			}
			if !p.Truncated {
				if p.NextMarker != nil {
					t.Fatal("NextMarker without Truncated")
				}
				break
			}
			marker = p.NextMarker
		}
		if !seen[aws.ToString(md.KeyId)] {
			t.Fatal("ListKeys does not list the new key")
		}
		_, err := c.ListKeys(ctx(t), &kms.ListKeysInput{Marker: aws.String("bm90IGEgbWFya2Vy")})
		wantKMSError(t, err, "InvalidMarkerException", "*")

		// Unknown and malformed keys.
		_, err = c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("fake-key-id")})
		wantKMSError(t, err, "NotFoundException", "Invalid keyId 'fake-key-id'")
		unknown := "0b3bd5b4-1111-4222-8333-444455556666"
		_, err = c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(unknown)})
		wantKMSError(t, err, "NotFoundException", "Key 'arn:aws:kms:us-east-1:"+aws.ToString(md.AWSAccountId)+":key/"+unknown+"' does not exist")
		_, err = c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:ap-southeast-1:" + aws.ToString(md.AWSAccountId) + ":key/" + unknown)})
		wantKMSError(t, err, "NotFoundException", "Invalid arn ap-southeast-1")
		_, err = c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("alias/nope")})
		wantKMSError(t, err, "NotFoundException", "Alias arn:aws:kms:us-east-1:"+aws.ToString(md.AWSAccountId)+":alias/nope is not found.")
	})

	t.Run("DescriptionTagsPolicy", func(t *testing.T) {
		md := newKMSKey(t, c, "first")
		id := md.KeyId
		call(t, c.UpdateKeyDescription, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: aws.String("second")})
		if d := call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: id}); aws.ToString(d.KeyMetadata.Description) != "second" {
			t.Fatal("description not updated")
		}
		call(t, c.TagResource, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{
			{TagKey: aws.String("a"), TagValue: aws.String("1")}, {TagKey: aws.String("b"), TagValue: aws.String("2")}, {TagKey: aws.String("c"), TagValue: aws.String("")},
		}})
		call(t, c.TagResource, &kms.TagResourceInput{KeyId: md.Arn, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("9")}}})
		call(t, c.UntagResource, &kms.UntagResourceInput{KeyId: id, TagKeys: []string{"b", "absent"}})
		tags := call(t, c.ListResourceTags, &kms.ListResourceTagsInput{KeyId: id, Limit: aws.Int32(1)})
		if len(tags.Tags) != 1 || !tags.Truncated || aws.ToString(tags.Tags[0].TagKey) != "a" || aws.ToString(tags.Tags[0].TagValue) != "9" {
			t.Fatalf("tags page 1 %+v", tags)
		}
		tags = call(t, c.ListResourceTags, &kms.ListResourceTagsInput{KeyId: id, Marker: tags.NextMarker})
		if len(tags.Tags) != 1 || tags.Truncated || aws.ToString(tags.Tags[0].TagKey) != "c" {
			t.Fatalf("tags page 2 %+v", tags)
		}
		_, err := c.TagResource(ctx(t), &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("1")}}})
		wantKMSError(t, err, "TagException", "Tags beginning with aws: are reserved")
		_, err = c.TagResource(ctx(t), &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("d"), TagValue: aws.String("1")}, {TagKey: aws.String("d"), TagValue: aws.String("2")}}})
		wantKMSError(t, err, "TagException", "Duplicate tag keys")

		pol := call(t, c.GetKeyPolicy, &kms.GetKeyPolicyInput{KeyId: id})
		var doc struct {
			ID        string `json:"Id"`
			Statement []struct {
				Sid       string
				Principal struct{ AWS string }
				Action    string
			}
		}
		if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil || doc.ID != "key-default-1" ||
			len(doc.Statement) != 1 || doc.Statement[0].Action != "kms:*" || doc.Statement[0].Principal.AWS != "arn:aws:iam::"+aws.ToString(md.AWSAccountId)+":root" ||
			aws.ToString(pol.PolicyName) != "default" {
			t.Fatalf("default policy %s (%v)", aws.ToString(pol.Policy), err)
		}
		// The new policy keeps the account (root) in: key policies are
		// enforced, and one that names neither root nor the account locks
		// root out as in AWS.
		newPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"},` +
			`{"Sid":"root","Effect":"Allow","Principal":{"AWS":"` + aws.ToString(md.AWSAccountId) + `"},"Action":"kms:*","Resource":"*"}]}`
		call(t, c.PutKeyPolicy, &kms.PutKeyPolicyInput{KeyId: id, PolicyName: aws.String("default"), Policy: aws.String(newPolicy)})
		if p := call(t, c.GetKeyPolicy, &kms.GetKeyPolicyInput{KeyId: id, PolicyName: aws.String("default")}); aws.ToString(p.Policy) != newPolicy {
			t.Fatal("policy not replaced")
		}
		_, err = c.PutKeyPolicy(ctx(t), &kms.PutKeyPolicyInput{KeyId: id, Policy: aws.String("{nope")})
		wantKMSError(t, err, "MalformedPolicyDocumentException", "*")
		_, err = c.GetKeyPolicy(ctx(t), &kms.GetKeyPolicyInput{KeyId: id, PolicyName: aws.String("other")})
		wantKMSError(t, err, "NotFoundException", "*")
		names := call(t, c.ListKeyPolicies, &kms.ListKeyPoliciesInput{KeyId: id})
		if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "default" || names.Truncated {
			t.Fatalf("ListKeyPolicies %+v", names)
		}
	})

	t.Run("EnableDisableDeletion", func(t *testing.T) {
		md := newKMSKey(t, c, "")
		id := md.KeyId
		call(t, c.DisableKey, &kms.DisableKeyInput{KeyId: id})
		if d := call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: id}); d.KeyMetadata.Enabled || d.KeyMetadata.KeyState != types.KeyStateDisabled {
			t.Fatalf("after DisableKey: %+v", d.KeyMetadata)
		}
		call(t, c.EnableKey, &kms.EnableKeyInput{KeyId: md.Arn})
		_, err := c.ScheduleKeyDeletion(ctx(t), &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(6)})
		wantKMSError(t, err, "ValidationException", "*")
		before := time.Now()
		sd := call(t, c.ScheduleKeyDeletion, &kms.ScheduleKeyDeletionInput{KeyId: id})
		if aws.ToString(sd.KeyId) != aws.ToString(md.Arn) || sd.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(sd.PendingWindowInDays) != 30 ||
			sd.DeletionDate == nil || sd.DeletionDate.Before(before.AddDate(0, 0, 30).Add(-time.Minute)) {
			t.Fatalf("ScheduleKeyDeletion %+v", sd)
		}
		d := call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: id})
		if d.KeyMetadata.DeletionDate == nil || d.KeyMetadata.Enabled {
			t.Fatalf("pending key metadata %+v", d.KeyMetadata)
		}
		_, err = c.ScheduleKeyDeletion(ctx(t), &kms.ScheduleKeyDeletionInput{KeyId: id})
		wantKMSError(t, err, "KMSInvalidStateException", aws.ToString(md.Arn)+" is pending deletion.")
		cd := call(t, c.CancelKeyDeletion, &kms.CancelKeyDeletionInput{KeyId: id})
		if aws.ToString(cd.KeyId) != aws.ToString(md.Arn) {
			t.Fatalf("CancelKeyDeletion KeyId %s", aws.ToString(cd.KeyId))
		}
		d = call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: id})
		if d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.Enabled || d.KeyMetadata.DeletionDate != nil {
			t.Fatalf("after cancel %+v", d.KeyMetadata)
		}
		_, err = c.CancelKeyDeletion(ctx(t), &kms.CancelKeyDeletionInput{KeyId: id})
		wantKMSError(t, err, "KMSInvalidStateException", aws.ToString(md.Arn)+" is not pending deletion.")
		call(t, c.EnableKey, &kms.EnableKeyInput{KeyId: id})
	})

	t.Run("Aliases", func(t *testing.T) {
		a := newKMSKey(t, c, "a")
		b := newKMSKey(t, c, "b")
		call(t, c.CreateAlias, &kms.CreateAliasInput{AliasName: aws.String("alias/svc"), TargetKeyId: a.Arn})
		_, err := c.CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String("svc2"), TargetKeyId: a.KeyId})
		wantKMSError(t, err, "ValidationException", `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
		_, err = c.CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String("alias/svc"), TargetKeyId: b.KeyId})
		wantKMSError(t, err, "AlreadyExistsException", "*")
		_, err = c.CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String("alias/aws/mine"), TargetKeyId: b.KeyId})
		wantKMSError(t, err, "NotAuthorizedException", "*")
		_, err = c.CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String("alias/svc3"), TargetKeyId: aws.String("alias/svc")})
		wantKMSError(t, err, "NotFoundException", "Invalid keyId 'alias/svc'")
		list := call(t, c.ListAliases, &kms.ListAliasesInput{KeyId: a.KeyId})
		if len(list.Aliases) != 1 || aws.ToString(list.Aliases[0].TargetKeyId) != aws.ToString(a.KeyId) || list.Aliases[0].CreationDate == nil {
			t.Fatalf("ListAliases(a) %+v", list.Aliases)
		}
		call(t, c.UpdateAlias, &kms.UpdateAliasInput{AliasName: aws.String("alias/svc"), TargetKeyId: b.KeyId})
		if d := call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: aws.String("alias/svc")}); aws.ToString(d.KeyMetadata.KeyId) != aws.ToString(b.KeyId) {
			t.Fatal("UpdateAlias did not move the alias")
		}
		_, err = c.UpdateAlias(ctx(t), &kms.UpdateAliasInput{AliasName: aws.String("alias/none"), TargetKeyId: b.KeyId})
		wantKMSError(t, err, "NotFoundException", "*")
		all := call(t, c.ListAliases, &kms.ListAliasesInput{})
		var sm *types.AliasListEntry
		for i, e := range all.Aliases {
			if aws.ToString(e.AliasName) == "alias/aws/secretsmanager" {
				sm = &all.Aliases[i]
			}
		}
		if sm == nil || aws.ToString(sm.AliasArn) == "" {
			t.Fatalf("alias/aws/secretsmanager not listed: %+v", all.Aliases)
		}
		call(t, c.DeleteAlias, &kms.DeleteAliasInput{AliasName: aws.String("alias/svc")})
		_, err = c.DeleteAlias(ctx(t), &kms.DeleteAliasInput{AliasName: aws.String("alias/svc")})
		wantKMSError(t, err, "NotFoundException", "*")
		_, err = c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("alias/svc")})
		wantKMSError(t, err, "NotFoundException", "*")
	})

	t.Run("Crypto", func(t *testing.T) {
		a := newKMSKey(t, c, "a")
		b := newKMSKey(t, c, "b")
		ec := map[string]string{"tenant": "t1", "purpose": "test"}
		enc := call(t, c.Encrypt, &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("top secret"), EncryptionContext: ec})
		if aws.ToString(enc.KeyId) != aws.ToString(a.Arn) || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
			t.Fatalf("Encrypt %+v", enc)
		}
		dec := call(t, c.Decrypt, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
		if string(dec.Plaintext) != "top secret" || aws.ToString(dec.KeyId) != aws.ToString(a.Arn) || aws.ToString(dec.KeyMaterialId) != aws.ToString(a.CurrentKeyMaterialId) {
			t.Fatalf("Decrypt %+v", dec)
		}
		_, err := c.Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"tenant": "t2", "purpose": "test"}})
		wantKMSError(t, err, "InvalidCiphertextException", "")
		_, err = c.Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		wantKMSError(t, err, "InvalidCiphertextException", "")
		_, err = c.Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: b.KeyId})
		wantKMSError(t, err, "IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
		bad := bytes.Clone(enc.CiphertextBlob)
		bad[len(bad)-1] ^= 1
		_, err = c.Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: bad, EncryptionContext: ec})
		wantKMSError(t, err, "InvalidCiphertextException", "")
		_, err = c.Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob[:len(enc.CiphertextBlob)-5], EncryptionContext: ec})
		wantKMSError(t, err, "InvalidCiphertextException", "")
		_, err = c.Encrypt(ctx(t), &kms.EncryptInput{KeyId: a.KeyId, Plaintext: make([]byte, 4097)})
		wantKMSError(t, err, "ValidationException", "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096")
		_, err = c.Encrypt(ctx(t), &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("x"), DryRun: aws.Bool(true)})
		wantKMSError(t, err, "DryRunOperationException", "*")

		// ReEncrypt across keys.
		re := call(t, c.ReEncrypt, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec,
			DestinationKeyId: b.Arn, DestinationEncryptionContext: map[string]string{"x": "y"}})
		if aws.ToString(re.SourceKeyId) != aws.ToString(a.Arn) || aws.ToString(re.KeyId) != aws.ToString(b.Arn) ||
			aws.ToString(re.SourceKeyMaterialId) != aws.ToString(a.CurrentKeyMaterialId) || aws.ToString(re.DestinationKeyMaterialId) != aws.ToString(b.CurrentKeyMaterialId) {
			t.Fatalf("ReEncrypt %+v", re)
		}
		dec = call(t, c.Decrypt, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: map[string]string{"x": "y"}, KeyId: b.KeyId})
		if string(dec.Plaintext) != "top secret" {
			t.Fatal("ReEncrypt lost the plaintext")
		}
		_, err = c.ReEncrypt(ctx(t), &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b.KeyId})
		wantKMSError(t, err, "InvalidCiphertextException", "")
	})

	t.Run("DataKeysAndRandom", func(t *testing.T) {
		a := newKMSKey(t, c, "a")
		for _, tc := range []struct {
			in   kms.GenerateDataKeyInput
			size int
		}{
			{kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes256}, 32},
			{kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes128}, 16},
			{kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(64)}, 64},
		} {
			in := tc.in
			in.KeyId = a.KeyId
			in.EncryptionContext = map[string]string{"k": "v"}
			out := call(t, c.GenerateDataKey, &in)
			if len(out.Plaintext) != tc.size || aws.ToString(out.KeyId) != aws.ToString(a.Arn) || aws.ToString(out.KeyMaterialId) != aws.ToString(a.CurrentKeyMaterialId) {
				t.Fatalf("GenerateDataKey(%d) %+v", tc.size, out)
			}
			dec := call(t, c.Decrypt, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: map[string]string{"k": "v"}})
			if !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Fatal("data key does not decrypt to its plaintext")
			}
		}
		_, err := c.GenerateDataKey(ctx(t), &kms.GenerateDataKeyInput{KeyId: a.KeyId})
		wantKMSError(t, err, "ValidationException", "Please specify either number of bytes or key spec.")
		_, err = c.GenerateDataKey(ctx(t), &kms.GenerateDataKeyInput{KeyId: a.KeyId, NumberOfBytes: aws.Int32(1025)})
		wantKMSError(t, err, "ValidationException", "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024")
		wp := call(t, c.GenerateDataKeyWithoutPlaintext, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: a.KeyId, KeySpec: types.DataKeySpecAes256})
		if aws.ToString(wp.KeyId) != aws.ToString(a.Arn) {
			t.Fatalf("GenerateDataKeyWithoutPlaintext %+v", wp)
		}
		if dec := call(t, c.Decrypt, &kms.DecryptInput{CiphertextBlob: wp.CiphertextBlob}); len(dec.Plaintext) != 32 {
			t.Fatal("GenerateDataKeyWithoutPlaintext blob does not decrypt to 32 bytes")
		}
		r := call(t, c.GenerateRandom, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(48)})
		r2 := call(t, c.GenerateRandom, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(48)})
		if len(r.Plaintext) != 48 || bytes.Equal(r.Plaintext, r2.Plaintext) {
			t.Fatal("GenerateRandom")
		}
		_, err = c.GenerateRandom(ctx(t), &kms.GenerateRandomInput{})
		wantKMSError(t, err, "ValidationException", "NumberOfBytes is required.")
		_, err = c.GenerateRandom(ctx(t), &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1025)})
		wantKMSError(t, err, "ValidationException", "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024")
	})

	t.Run("Rotation", func(t *testing.T) {
		a := newKMSKey(t, c, "a")
		st := call(t, c.GetKeyRotationStatus, &kms.GetKeyRotationStatusInput{KeyId: a.KeyId})
		if st.KeyRotationEnabled || st.NextRotationDate != nil {
			t.Fatalf("initial rotation status %+v", st)
		}
		call(t, c.EnableKeyRotation, &kms.EnableKeyRotationInput{KeyId: a.KeyId})
		st = call(t, c.GetKeyRotationStatus, &kms.GetKeyRotationStatusInput{KeyId: a.KeyId})
		if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 365 || st.NextRotationDate == nil || aws.ToString(st.KeyId) != aws.ToString(a.Arn) {
			t.Fatalf("rotation status %+v", st)
		}
		call(t, c.EnableKeyRotation, &kms.EnableKeyRotationInput{KeyId: a.KeyId, RotationPeriodInDays: aws.Int32(90)})
		st = call(t, c.GetKeyRotationStatus, &kms.GetKeyRotationStatusInput{KeyId: a.Arn})
		if aws.ToInt32(st.RotationPeriodInDays) != 90 || st.NextRotationDate.After(time.Now().AddDate(0, 0, 91)) {
			t.Fatalf("rotation status after period change %+v", st)
		}
		_, err := c.EnableKeyRotation(ctx(t), &kms.EnableKeyRotationInput{KeyId: a.KeyId, RotationPeriodInDays: aws.Int32(89)})
		wantKMSError(t, err, "ValidationException", "1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value greater than or equal to 90")
		call(t, c.DisableKeyRotation, &kms.DisableKeyRotationInput{KeyId: a.KeyId})
		if st := call(t, c.GetKeyRotationStatus, &kms.GetKeyRotationStatusInput{KeyId: a.KeyId}); st.KeyRotationEnabled {
			t.Fatal("rotation still enabled")
		}

		old := call(t, c.Encrypt, &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("before")})
		rot := call(t, c.RotateKeyOnDemand, &kms.RotateKeyOnDemandInput{KeyId: a.Arn})
		if aws.ToString(rot.KeyId) != aws.ToString(a.KeyId) {
			t.Fatalf("RotateKeyOnDemand KeyId %s", aws.ToString(rot.KeyId))
		}
		d := call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: a.KeyId})
		newMaterial := aws.ToString(d.KeyMetadata.CurrentKeyMaterialId)
		if newMaterial == aws.ToString(a.CurrentKeyMaterialId) || !hex64.MatchString(newMaterial) {
			t.Fatal("CurrentKeyMaterialId did not change")
		}
		dec := call(t, c.Decrypt, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob})
		if string(dec.Plaintext) != "before" || aws.ToString(dec.KeyMaterialId) != aws.ToString(a.CurrentKeyMaterialId) {
			t.Fatalf("old ciphertext after rotation %+v", dec)
		}
		nw := call(t, c.GenerateDataKey, &kms.GenerateDataKeyInput{KeyId: a.KeyId, KeySpec: types.DataKeySpecAes256})
		if aws.ToString(nw.KeyMaterialId) != newMaterial {
			t.Fatal("new data key not under the new material")
		}
		rots := call(t, c.ListKeyRotations, &kms.ListKeyRotationsInput{KeyId: a.KeyId})
		if len(rots.Rotations) != 1 || rots.Rotations[0].RotationType != types.RotationTypeOnDemand ||
			aws.ToString(rots.Rotations[0].KeyMaterialId) != newMaterial || rots.Rotations[0].RotationDate == nil ||
			rots.Rotations[0].KeyMaterialState != types.KeyMaterialStateCurrent || rots.Truncated {
			t.Fatalf("ListKeyRotations %+v", rots)
		}
		all := call(t, c.ListKeyRotations, &kms.ListKeyRotationsInput{KeyId: a.KeyId, IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
		if len(all.Rotations) != 2 || all.Rotations[0].KeyMaterialState != types.KeyMaterialStateNonCurrent || all.Rotations[0].RotationDate != nil {
			t.Fatalf("ListKeyRotations(ALL_KEY_MATERIAL) %+v", all)
		}
		for i := 1; i < 25; i++ {
			call(t, c.RotateKeyOnDemand, &kms.RotateKeyOnDemandInput{KeyId: a.KeyId})
		}
		_, err = c.RotateKeyOnDemand(ctx(t), &kms.RotateKeyOnDemandInput{KeyId: a.KeyId})
		wantKMSError(t, err, "LimitExceededException", "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: "+aws.ToString(a.Arn))
		if dec := call(t, c.Decrypt, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob}); string(dec.Plaintext) != "before" {
			t.Fatal("oldest ciphertext no longer decrypts")
		}
	})

	t.Run("AWSManagedKey", func(t *testing.T) {
		d := call(t, c.DescribeKey, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
		md := d.KeyMetadata
		if md.KeyManager != types.KeyManagerTypeAws || !md.Enabled {
			t.Fatalf("AWS managed key %+v", md)
		}
		st := call(t, c.GetKeyRotationStatus, &kms.GetKeyRotationStatusInput{KeyId: md.KeyId})
		if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 365 {
			t.Fatalf("AWS managed key rotation %+v", st)
		}
		call(t, c.GetKeyPolicy, &kms.GetKeyPolicyInput{KeyId: md.KeyId})
		root := "arn:aws:iam::" + aws.ToString(md.AWSAccountId) + ":root"
		denied := func(action string) string {
			return "User: " + root + " is not authorized to perform: kms:" + action + " on resource: " + aws.ToString(md.Arn) + " because no resource-based policy allows the kms:" + action + " action"
		}
		_, err := c.DisableKey(ctx(t), &kms.DisableKeyInput{KeyId: md.KeyId})
		wantKMSError(t, err, "AccessDeniedException", denied("DisableKey"))
		_, err = c.ScheduleKeyDeletion(ctx(t), &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId})
		wantKMSError(t, err, "AccessDeniedException", denied("ScheduleKeyDeletion"))
		_, err = c.PutKeyPolicy(ctx(t), &kms.PutKeyPolicyInput{KeyId: md.KeyId, Policy: aws.String(`{"Statement":[]}`)})
		wantKMSError(t, err, "AccessDeniedException", denied("PutKeyPolicy"))
		_, err = c.TagResource(ctx(t), &kms.TagResourceInput{KeyId: md.KeyId, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("b")}}})
		wantKMSError(t, err, "AccessDeniedException", denied("TagResource"))
		_, err = c.RotateKeyOnDemand(ctx(t), &kms.RotateKeyOnDemandInput{KeyId: md.KeyId})
		wantKMSError(t, err, "AccessDeniedException", denied("RotateKeyOnDemand"))
		_, err = c.CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String("alias/mine"), TargetKeyId: md.KeyId})
		wantKMSError(t, err, "AccessDeniedException", denied("CreateAlias"))
		_, err = c.DeleteAlias(ctx(t), &kms.DeleteAliasInput{AliasName: aws.String("alias/aws/secretsmanager")})
		wantKMSError(t, err, "NotAuthorizedException", "*")
		_, err = c.Encrypt(ctx(t), &kms.EncryptInput{KeyId: aws.String("alias/aws/secretsmanager"), Plaintext: []byte("x")})
		wantKMSError(t, err, "AccessDeniedException", denied("Encrypt"))
	})

	t.Run("Unsupported", func(t *testing.T) {
		_, err := c.CreateKey(ctx(t), &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
		wantKMSError(t, err, "UnsupportedOperationException", "KeySpec RSA_2048 is not supported by this Coffer server: only symmetric encryption keys (SYMMETRIC_DEFAULT) can be created.")
		_, err = c.CreateKey(ctx(t), &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
		wantKMSError(t, err, "UnsupportedOperationException", "*")
		_, err = c.CreateKey(ctx(t), &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
		wantKMSError(t, err, "UnsupportedOperationException", "*")
		_, err = c.Sign(ctx(t), &kms.SignInput{KeyId: aws.String("alias/x"), Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		wantKMSError(t, err, "UnsupportedOperationException", "Sign is not supported by this Coffer server yet.")
	})
}

// TestKMSKeyStateErrors checks every operation against keys in the
// Disabled and PendingDeletion states (spec §5.2).
func TestKMSKeyStateErrors(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := s.kms()
	type opFn func(id *string, blob []byte) error
	calls := map[string]opFn{
		"Encrypt": func(id *string, _ []byte) error {
			_, err := c.Encrypt(ctx(t), &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
			return err
		},
		"Decrypt": func(_ *string, blob []byte) error {
			_, err := c.Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: blob})
			return err
		},
		"ReEncrypt": func(id *string, blob []byte) error {
			_, err := c.ReEncrypt(ctx(t), &kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: id})
			return err
		},
		"GenerateDataKey": func(id *string, _ []byte) error {
			_, err := c.GenerateDataKey(ctx(t), &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256})
			return err
		},
		"GenerateDataKeyWithoutPlaintext": func(id *string, _ []byte) error {
			_, err := c.GenerateDataKeyWithoutPlaintext(ctx(t), &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: id, NumberOfBytes: aws.Int32(16)})
			return err
		},
		"EnableKeyRotation": func(id *string, _ []byte) error {
			_, err := c.EnableKeyRotation(ctx(t), &kms.EnableKeyRotationInput{KeyId: id})
			return err
		},
		"DisableKeyRotation": func(id *string, _ []byte) error {
			_, err := c.DisableKeyRotation(ctx(t), &kms.DisableKeyRotationInput{KeyId: id})
			return err
		},
		"RotateKeyOnDemand": func(id *string, _ []byte) error {
			_, err := c.RotateKeyOnDemand(ctx(t), &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		},
		"EnableKey": func(id *string, _ []byte) error {
			_, err := c.EnableKey(ctx(t), &kms.EnableKeyInput{KeyId: id})
			return err
		},
		"DisableKey": func(id *string, _ []byte) error {
			_, err := c.DisableKey(ctx(t), &kms.DisableKeyInput{KeyId: id})
			return err
		},
		"TagResource": func(id *string, _ []byte) error {
			_, err := c.TagResource(ctx(t), &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("b")}}})
			return err
		},
		"UntagResource": func(id *string, _ []byte) error {
			_, err := c.UntagResource(ctx(t), &kms.UntagResourceInput{KeyId: id, TagKeys: []string{"a"}})
			return err
		},
		"UpdateKeyDescription": func(id *string, _ []byte) error {
			_, err := c.UpdateKeyDescription(ctx(t), &kms.UpdateKeyDescriptionInput{KeyId: id, Description: aws.String("d")})
			return err
		},
		"CreateAlias": func(id *string, _ []byte) error {
			_, err := c.CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String("alias/s-" + aws.ToString(id)), TargetKeyId: id})
			return err
		},
		"ScheduleKeyDeletion": func(id *string, _ []byte) error {
			_, err := c.ScheduleKeyDeletion(ctx(t), &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)})
			return err
		},
		"DescribeKey": func(id *string, _ []byte) error {
			_, err := c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: id})
			return err
		},
		"GetKeyPolicy": func(id *string, _ []byte) error {
			_, err := c.GetKeyPolicy(ctx(t), &kms.GetKeyPolicyInput{KeyId: id})
			return err
		},
		"PutKeyPolicy": func(id *string, _ []byte) error {
			_, err := c.PutKeyPolicy(ctx(t), &kms.PutKeyPolicyInput{KeyId: id, Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		},
		"ListKeyPolicies": func(id *string, _ []byte) error {
			_, err := c.ListKeyPolicies(ctx(t), &kms.ListKeyPoliciesInput{KeyId: id})
			return err
		},
		"ListResourceTags": func(id *string, _ []byte) error {
			_, err := c.ListResourceTags(ctx(t), &kms.ListResourceTagsInput{KeyId: id})
			return err
		},
		"GetKeyRotationStatus": func(id *string, _ []byte) error {
			_, err := c.GetKeyRotationStatus(ctx(t), &kms.GetKeyRotationStatusInput{KeyId: id})
			return err
		},
		"ListKeyRotations": func(id *string, _ []byte) error {
			_, err := c.ListKeyRotations(ctx(t), &kms.ListKeyRotationsInput{KeyId: id})
			return err
		},
		"ListAliases": func(id *string, _ []byte) error {
			_, err := c.ListAliases(ctx(t), &kms.ListAliasesInput{KeyId: id})
			return err
		},
	}
	// What each operation answers per state: "" success, "disabled"
	// (DisabledException), "pending" (KMSInvalidStateException).
	want := map[string][2]string{ // Disabled, PendingDeletion
		"Encrypt": {"disabled", "pending"}, "Decrypt": {"disabled", "pending"}, "ReEncrypt": {"disabled", "pending"},
		"GenerateDataKey": {"disabled", "pending"}, "GenerateDataKeyWithoutPlaintext": {"disabled", "pending"},
		"EnableKeyRotation": {"disabled", "pending"}, "DisableKeyRotation": {"disabled", "pending"},
		"RotateKeyOnDemand": {"disabled", "pending"},
		"EnableKey":         {"", "pending"}, "DisableKey": {"", "pending"}, "TagResource": {"", "pending"},
		"UntagResource": {"", "pending"}, "UpdateKeyDescription": {"", "pending"}, "CreateAlias": {"", "pending"},
		"ScheduleKeyDeletion": {"", "pending"},
		"DescribeKey":         {"", ""}, "GetKeyPolicy": {"", ""}, "PutKeyPolicy": {"", ""}, "ListKeyPolicies": {"", ""},
		"ListResourceTags": {"", ""}, "GetKeyRotationStatus": {"", ""}, "ListKeyRotations": {"", ""}, "ListAliases": {"", ""},
	}
	for name, run := range calls {
		for i, state := range []types.KeyState{types.KeyStateDisabled, types.KeyStatePendingDeletion} {
			t.Run(name+"/"+string(state), func(t *testing.T) {
				md := newKMSKey(t, c, "state test")
				enc := call(t, c.Encrypt, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
				if state == types.KeyStateDisabled {
					call(t, c.DisableKey, &kms.DisableKeyInput{KeyId: md.KeyId})
				} else {
					call(t, c.ScheduleKeyDeletion, &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(7)})
				}
				err := run(md.KeyId, enc.CiphertextBlob)
				switch want[name][i] {
				case "":
					if err != nil {
						t.Fatalf("%v, want success", err)
					}
				case "disabled":
					wantKMSError(t, err, "DisabledException", aws.ToString(md.Arn)+" is disabled.")
				case "pending":
					wantKMSError(t, err, "KMSInvalidStateException", aws.ToString(md.Arn)+" is pending deletion.")
				}
			})
		}
	}
	if len(calls) != len(want) {
		t.Fatalf("table mismatch: %d calls, %d expectations", len(calls), len(want))
	}
}
