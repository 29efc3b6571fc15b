package awsapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/kmsapi"
	"github.com/coffer-dev/coffer/internal/kms"
)

// kmsHandlers implements the KMS operations Coffer supports: everything a
// symmetric encryption key needs. The others answer with a clear
// UnsupportedOperationException.
func (s *Server) kmsHandlers() map[string]func(context.Context, *call, any) (any, error) {
	return map[string]func(context.Context, *call, any) (any, error){
		"CreateKey":                       typed(s.kmsCreateKey),
		"DescribeKey":                     typed(s.kmsDescribeKey),
		"ListKeys":                        typed(s.kmsListKeys),
		"EnableKey":                       typed(s.kmsEnableKey),
		"DisableKey":                      typed(s.kmsDisableKey),
		"ScheduleKeyDeletion":             typed(s.kmsScheduleKeyDeletion),
		"CancelKeyDeletion":               typed(s.kmsCancelKeyDeletion),
		"UpdateKeyDescription":            typed(s.kmsUpdateKeyDescription),
		"CreateAlias":                     typed(s.kmsCreateAlias),
		"UpdateAlias":                     typed(s.kmsUpdateAlias),
		"DeleteAlias":                     typed(s.kmsDeleteAlias),
		"ListAliases":                     typed(s.kmsListAliases),
		"Encrypt":                         typed(s.kmsEncrypt),
		"Decrypt":                         typed(s.kmsDecrypt),
		"ReEncrypt":                       typed(s.kmsReEncrypt),
		"GenerateDataKey":                 typed(s.kmsGenerateDataKey),
		"GenerateDataKeyWithoutPlaintext": typed(s.kmsGenerateDataKeyWithoutPlaintext),
		"GenerateRandom":                  typed(s.kmsGenerateRandom),
		"EnableKeyRotation":               typed(s.kmsEnableKeyRotation),
		"DisableKeyRotation":              typed(s.kmsDisableKeyRotation),
		"GetKeyRotationStatus":            typed(s.kmsGetKeyRotationStatus),
		"RotateKeyOnDemand":               typed(s.kmsRotateKeyOnDemand),
		"ListKeyRotations":                typed(s.kmsListKeyRotations),
		"TagResource":                     typed(s.kmsTagResource),
		"UntagResource":                   typed(s.kmsUntagResource),
		"ListResourceTags":                typed(s.kmsListResourceTags),
		"GetKeyPolicy":                    typed(s.kmsGetKeyPolicy),
		"PutKeyPolicy":                    typed(s.kmsPutKeyPolicy),
		"ListKeyPolicies":                 typed(s.kmsListKeyPolicies),
	}
}

func (s *Server) registerKMS() {
	handlers := s.kmsHandlers()
	for name, info := range kmsapi.Operations {
		info := info
		op := &operation{service: svcKMS, name: name, readOnly: info.ReadOnly,
			input: func() validator { return info.NewInput() }}
		if h, ok := handlers[name]; ok {
			op.run = func(ctx context.Context, c *call, in any) (any, error) {
				if c.caller != nil {
					ctx = kms.WithCaller(ctx, c.caller.ARN)
				}
				return h(ctx, c, in)
			}
		} else {
			op.run = func(context.Context, *call, any) (any, error) {
				return nil, clientErr("UnsupportedOperationException", fmt.Sprintf("%s is not supported by this Coffer server yet.", name))
			}
		}
		s.ops[targetKMS+"."+name] = op
	}
}

// kmsKey resolves a key reference and authorizes action on the key. A
// reference that does not resolve is authorized against "*" before its
// error is returned, so that a caller without permission learns nothing.
func (s *Server) kmsKey(ctx context.Context, c *call, ref *string, allowAlias bool, action string) (*kms.Key, error) {
	k, err := s.cfg.KMS.Resolve(ctx, deref(ref), allowAlias)
	if err != nil {
		if aerr := s.authorize(ctx, c, action, "*", nil); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	if err := s.authorizeKMS(ctx, c, action, k, nil); err != nil {
		return nil, err
	}
	return k, nil
}

// keyMetadata renders a key the way DescribeKey and CreateKey show it
// (spec §5.4).
func keyMetadata(k *kms.Key) *kmsapi.KeyMetadata {
	md := &kmsapi.KeyMetadata{
		AWSAccountId:          ptr(k.Account),
		KeyId:                 ptr(k.ID),
		Arn:                   ptr(k.ARN),
		CreationDate:          awsjson.TimeOf(k.CreatedAt),
		Enabled:               ptr(k.State == kms.StateEnabled),
		Description:           ptr(k.Description),
		KeyUsage:              ptr(k.Usage),
		KeyState:              ptr(string(k.State)),
		Origin:                ptr(k.Origin),
		KeyManager:            ptr(string(k.Manager)),
		CustomerMasterKeySpec: ptr(k.Spec),
		KeySpec:               ptr(k.Spec),
		EncryptionAlgorithms:  []string{kms.AlgorithmSymmetric},
		MultiRegion:           ptr(false),
	}
	if k.State == kms.StatePendingDeletion {
		md.DeletionDate = awsjson.TimeOf(k.DeletionDate)
	}
	if m := k.Current(); m != nil {
		md.CurrentKeyMaterialId = ptr(m.ID)
	}
	return md
}

func kmsTags(in []kmsapi.Tag) []kms.Tag {
	out := make([]kms.Tag, len(in))
	for i, t := range in {
		out[i] = kms.Tag{Key: deref(t.TagKey), Value: deref(t.TagValue)}
	}
	return out
}

func (s *Server) kmsCreateKey(ctx context.Context, c *call, in *kmsapi.CreateKeyInput) (any, error) {
	if err := s.authorize(ctx, c, "kms:CreateKey", "*", nil); err != nil {
		return nil, err
	}
	if len(in.Tags) > 0 {
		if err := s.authorize(ctx, c, "kms:TagResource", "*", nil); err != nil {
			return nil, err
		}
	}
	k, err := s.cfg.KMS.CreateKey(ctx, kms.CreateKeyInput{
		Description: deref(in.Description), Policy: deref(in.Policy), KeyUsage: deref(in.KeyUsage),
		KeySpec: deref(in.KeySpec), CustomerMasterKeySpec: deref(in.CustomerMasterKeySpec),
		Origin: deref(in.Origin), CustomKeyStoreID: deref(in.CustomKeyStoreId), XksKeyID: deref(in.XksKeyId),
		MultiRegion: deref(in.MultiRegion), Tags: kmsTags(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &kmsapi.CreateKeyOutput{KeyMetadata: keyMetadata(k)}, nil
}

func (s *Server) kmsDescribeKey(ctx context.Context, c *call, in *kmsapi.DescribeKeyInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, true, "kms:DescribeKey")
	if err != nil {
		return nil, err
	}
	return &kmsapi.DescribeKeyOutput{KeyMetadata: keyMetadata(k)}, nil
}

// listOut fills the Truncated/NextMarker pair every KMS list shares.
func listOut(next string) (*bool, *string) {
	return ptr(next != ""), optStr(next)
}

func (s *Server) kmsListKeys(ctx context.Context, c *call, in *kmsapi.ListKeysInput) (any, error) {
	if err := s.authorize(ctx, c, "kms:ListKeys", "*", nil); err != nil {
		return nil, err
	}
	keys, next, err := s.cfg.KMS.ListKeys(ctx, int(deref(in.Limit)), deref(in.Marker))
	if err != nil {
		return nil, err
	}
	out := &kmsapi.ListKeysOutput{Keys: make([]kmsapi.KeyListEntry, 0, len(keys))}
	for _, k := range keys {
		out.Keys = append(out.Keys, kmsapi.KeyListEntry{KeyId: ptr(k.ID), KeyArn: ptr(k.ARN)})
	}
	out.Truncated, out.NextMarker = listOut(next)
	return out, nil
}

func (s *Server) kmsEnableKey(ctx context.Context, c *call, in *kmsapi.EnableKeyInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:EnableKey")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.EnableKey(ctx, k.ID)
}

func (s *Server) kmsDisableKey(ctx context.Context, c *call, in *kmsapi.DisableKeyInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:DisableKey")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.DisableKey(ctx, k.ID)
}

func (s *Server) kmsScheduleKeyDeletion(ctx context.Context, c *call, in *kmsapi.ScheduleKeyDeletionInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:ScheduleKeyDeletion")
	if err != nil {
		return nil, err
	}
	k, err = s.cfg.KMS.ScheduleDeletion(ctx, k.ID, int(deref(in.PendingWindowInDays)))
	if err != nil {
		return nil, err
	}
	return &kmsapi.ScheduleKeyDeletionOutput{KeyId: ptr(k.ARN), DeletionDate: awsjson.TimeOf(k.DeletionDate),
		KeyState: ptr(string(k.State)), PendingWindowInDays: ptr(int64(k.PendingWindowDays))}, nil
}

func (s *Server) kmsCancelKeyDeletion(ctx context.Context, c *call, in *kmsapi.CancelKeyDeletionInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:CancelKeyDeletion")
	if err != nil {
		return nil, err
	}
	k, err = s.cfg.KMS.CancelDeletion(ctx, k.ID)
	if err != nil {
		return nil, err
	}
	return &kmsapi.CancelKeyDeletionOutput{KeyId: ptr(k.ARN)}, nil
}

func (s *Server) kmsUpdateKeyDescription(ctx context.Context, c *call, in *kmsapi.UpdateKeyDescriptionInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:UpdateKeyDescription")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.UpdateDescription(ctx, k.ID, deref(in.Description))
}

func (s *Server) kmsCreateAlias(ctx context.Context, c *call, in *kmsapi.CreateAliasInput) (any, error) {
	name := deref(in.AliasName)
	if err := kms.ValidAliasName(name); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, c, "kms:CreateAlias", s.cfg.KMS.AliasARN(name), nil); err != nil {
		return nil, err
	}
	k, err := s.kmsKey(ctx, c, in.TargetKeyId, false, "kms:CreateAlias")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.CreateAlias(ctx, name, k.ID)
}

func (s *Server) kmsUpdateAlias(ctx context.Context, c *call, in *kmsapi.UpdateAliasInput) (any, error) {
	name := deref(in.AliasName)
	if err := kms.ValidAliasName(name); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, c, "kms:UpdateAlias", s.cfg.KMS.AliasARN(name), nil); err != nil {
		return nil, err
	}
	k, err := s.kmsKey(ctx, c, in.TargetKeyId, false, "kms:UpdateAlias")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.UpdateAlias(ctx, name, k.ID)
}

func (s *Server) kmsDeleteAlias(ctx context.Context, c *call, in *kmsapi.DeleteAliasInput) (any, error) {
	name := deref(in.AliasName)
	if err := kms.ValidAliasName(name); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, c, "kms:DeleteAlias", s.cfg.KMS.AliasARN(name), nil); err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.DeleteAlias(ctx, name)
}

func (s *Server) kmsListAliases(ctx context.Context, c *call, in *kmsapi.ListAliasesInput) (any, error) {
	if err := s.authorize(ctx, c, "kms:ListAliases", "*", nil); err != nil {
		return nil, err
	}
	aliases, next, err := s.cfg.KMS.ListAliases(ctx, deref(in.KeyId), int(deref(in.Limit)), deref(in.Marker))
	if err != nil {
		return nil, err
	}
	out := &kmsapi.ListAliasesOutput{Aliases: make([]kmsapi.AliasListEntry, 0, len(aliases))}
	for _, a := range aliases {
		e := kmsapi.AliasListEntry{AliasName: ptr(a.Name), AliasArn: ptr(s.cfg.KMS.AliasARN(a.Name)),
			TargetKeyId: optStr(a.TargetKeyID), CreationDate: awsjson.TimeOf(a.CreatedAt), LastUpdatedDate: awsjson.TimeOf(a.UpdatedAt)}
		out.Aliases = append(out.Aliases, e)
	}
	out.Truncated, out.NextMarker = listOut(next)
	return out, nil
}

// recipientUnsupported refuses the Nitro Enclaves Recipient parameter.
func recipientUnsupported(r *kmsapi.RecipientInfo) error {
	if r != nil {
		return clientErr("UnsupportedOperationException", "The Recipient parameter (attested enclaves) is not supported by this Coffer server.")
	}
	return nil
}

func (s *Server) kmsEncrypt(ctx context.Context, c *call, in *kmsapi.EncryptInput) (any, error) {
	defer clear(in.Plaintext)
	k, err := s.kmsKey(ctx, c, in.KeyId, true, "kms:Encrypt")
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.KMS.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID, Context: in.EncryptionContext,
		Algorithm: deref(in.EncryptionAlgorithm), DryRun: deref(in.DryRun)}, in.Plaintext)
	if err != nil {
		return nil, err
	}
	return &kmsapi.EncryptOutput{CiphertextBlob: res.Blob, KeyId: ptr(res.Key.ARN), EncryptionAlgorithm: ptr(kms.AlgorithmSymmetric)}, nil
}

// blobKey authorizes action on the key a ciphertext names (Decrypt and
// ReEncrypt without a KeyId).
func (s *Server) blobKey(ctx context.Context, c *call, ref *string, blob []byte, action string) (string, error) {
	if deref(ref) != "" {
		k, err := s.kmsKey(ctx, c, ref, true, action)
		if err != nil {
			return "", err
		}
		return k.ID, nil
	}
	resource := "*"
	if id, err := kms.BlobKeyID(blob); err == nil {
		if k, err := s.cfg.KMS.Resolve(ctx, id, false); err == nil {
			return "", s.authorizeKMS(ctx, c, action, k, nil)
		}
		resource = s.cfg.KMS.KeyARN(id)
	}
	return "", s.authorize(ctx, c, action, resource, nil)
}

func (s *Server) kmsDecrypt(ctx context.Context, c *call, in *kmsapi.DecryptInput) (any, error) {
	if err := recipientUnsupported(in.Recipient); err != nil {
		return nil, err
	}
	ref, err := s.blobKey(ctx, c, in.KeyId, in.CiphertextBlob, "kms:Decrypt")
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.KMS.Decrypt(ctx, kms.CryptoInput{KeyRef: ref, Context: in.EncryptionContext,
		Algorithm: deref(in.EncryptionAlgorithm), DryRun: deref(in.DryRun)}, in.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	return &plaintextOut{fields: []jsonField{
		{"KeyId", res.Key.ARN, nil},
		{"Plaintext", "", res.Plaintext},
		{"EncryptionAlgorithm", kms.AlgorithmSymmetric, nil},
		{"KeyMaterialId", res.Material.ID, nil},
	}, secret: res.Plaintext}, nil
}

func (s *Server) kmsReEncrypt(ctx context.Context, c *call, in *kmsapi.ReEncryptInput) (any, error) {
	src, err := s.blobKey(ctx, c, in.SourceKeyId, in.CiphertextBlob, "kms:ReEncryptFrom")
	if err != nil {
		return nil, err
	}
	dst, err := s.kmsKey(ctx, c, in.DestinationKeyId, true, "kms:ReEncryptTo")
	if err != nil {
		return nil, err
	}
	dry := deref(in.DryRun)
	res, err := s.cfg.KMS.ReEncrypt(ctx,
		kms.CryptoInput{KeyRef: src, Context: in.SourceEncryptionContext, Algorithm: deref(in.SourceEncryptionAlgorithm), DryRun: dry},
		kms.CryptoInput{KeyRef: dst.ID, Context: in.DestinationEncryptionContext, Algorithm: deref(in.DestinationEncryptionAlgorithm)},
		in.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	return &kmsapi.ReEncryptOutput{CiphertextBlob: res.Blob, SourceKeyId: ptr(res.SourceKey.ARN), KeyId: ptr(res.Key.ARN),
		SourceEncryptionAlgorithm: ptr(kms.AlgorithmSymmetric), DestinationEncryptionAlgorithm: ptr(kms.AlgorithmSymmetric),
		SourceKeyMaterialId: ptr(res.SourceMaterial.ID), DestinationKeyMaterialId: ptr(res.Material.ID)}, nil
}

func (s *Server) kmsGenerateDataKey(ctx context.Context, c *call, in *kmsapi.GenerateDataKeyInput) (any, error) {
	if err := recipientUnsupported(in.Recipient); err != nil {
		return nil, err
	}
	k, err := s.kmsKey(ctx, c, in.KeyId, true, "kms:GenerateDataKey")
	if err != nil {
		return nil, err
	}
	size, err := kms.DataKeySize(int(deref(in.NumberOfBytes)), deref(in.KeySpec))
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.KMS.GenerateDataKey(ctx, kms.CryptoInput{KeyRef: k.ID, Context: in.EncryptionContext, DryRun: deref(in.DryRun)}, size, true)
	if err != nil {
		return nil, err
	}
	return &plaintextOut{fields: []jsonField{
		{"CiphertextBlob", "", res.Blob},
		{"Plaintext", "", res.Plaintext},
		{"KeyId", res.Key.ARN, nil},
		{"KeyMaterialId", res.Material.ID, nil},
	}, secret: res.Plaintext}, nil
}

func (s *Server) kmsGenerateDataKeyWithoutPlaintext(ctx context.Context, c *call, in *kmsapi.GenerateDataKeyWithoutPlaintextInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, true, "kms:GenerateDataKeyWithoutPlaintext")
	if err != nil {
		return nil, err
	}
	size, err := kms.DataKeySize(int(deref(in.NumberOfBytes)), deref(in.KeySpec))
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.KMS.GenerateDataKey(ctx, kms.CryptoInput{KeyRef: k.ID, Context: in.EncryptionContext, DryRun: deref(in.DryRun)}, size, false)
	if err != nil {
		return nil, err
	}
	return &kmsapi.GenerateDataKeyWithoutPlaintextOutput{CiphertextBlob: res.Blob, KeyId: ptr(res.Key.ARN), KeyMaterialId: ptr(res.Material.ID)}, nil
}

func (s *Server) kmsGenerateRandom(ctx context.Context, c *call, in *kmsapi.GenerateRandomInput) (any, error) {
	if err := s.authorize(ctx, c, "kms:GenerateRandom", "*", nil); err != nil {
		return nil, err
	}
	if err := recipientUnsupported(in.Recipient); err != nil {
		return nil, err
	}
	if deref(in.CustomKeyStoreId) != "" {
		return nil, clientErr("UnsupportedOperationException", "Custom key stores are not supported by this Coffer server.")
	}
	b, err := kms.GenerateRandom(int(deref(in.NumberOfBytes)))
	if err != nil {
		return nil, err
	}
	return &plaintextOut{fields: []jsonField{{"Plaintext", "", b}}, secret: b}, nil
}

func (s *Server) kmsEnableKeyRotation(ctx context.Context, c *call, in *kmsapi.EnableKeyRotationInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:EnableKeyRotation")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.EnableRotation(ctx, k.ID, int(deref(in.RotationPeriodInDays)))
}

func (s *Server) kmsDisableKeyRotation(ctx context.Context, c *call, in *kmsapi.DisableKeyRotationInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:DisableKeyRotation")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.DisableRotation(ctx, k.ID)
}

func (s *Server) kmsGetKeyRotationStatus(ctx context.Context, c *call, in *kmsapi.GetKeyRotationStatusInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:GetKeyRotationStatus")
	if err != nil {
		return nil, err
	}
	k, st, err := s.cfg.KMS.GetRotationStatus(ctx, k.ID)
	if err != nil {
		return nil, err
	}
	out := &kmsapi.GetKeyRotationStatusOutput{KeyRotationEnabled: ptr(st.Enabled), KeyId: ptr(k.ARN)}
	if st.Enabled {
		out.RotationPeriodInDays = ptr(int64(st.PeriodDays))
		out.NextRotationDate = awsjson.TimeOf(st.Next)
	}
	return out, nil
}

func (s *Server) kmsRotateKeyOnDemand(ctx context.Context, c *call, in *kmsapi.RotateKeyOnDemandInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:RotateKeyOnDemand")
	if err != nil {
		return nil, err
	}
	k, err = s.cfg.KMS.RotateOnDemand(ctx, k.ID)
	if err != nil {
		return nil, err
	}
	return &kmsapi.RotateKeyOnDemandOutput{KeyId: ptr(k.ID)}, nil
}

func (s *Server) kmsListKeyRotations(ctx context.Context, c *call, in *kmsapi.ListKeyRotationsInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:ListKeyRotations")
	if err != nil {
		return nil, err
	}
	k, entries, next, err := s.cfg.KMS.ListRotations(ctx, k.ID, deref(in.IncludeKeyMaterial) == "ALL_KEY_MATERIAL", int(deref(in.Limit)), deref(in.Marker))
	if err != nil {
		return nil, err
	}
	out := &kmsapi.ListKeyRotationsOutput{Rotations: make([]kmsapi.RotationsListEntry, 0, len(entries))}
	for _, e := range entries {
		state := "NON_CURRENT"
		if e.Current {
			state = "CURRENT"
		}
		r := kmsapi.RotationsListEntry{KeyId: ptr(k.ID), KeyMaterialId: ptr(e.Material.ID), KeyMaterialState: ptr(state)}
		if e.Material.Rotation != "" {
			r.RotationDate = awsjson.TimeOf(e.Material.CreatedAt)
			r.RotationType = ptr(e.Material.Rotation)
		}
		out.Rotations = append(out.Rotations, r)
	}
	out.Truncated, out.NextMarker = listOut(next)
	return out, nil
}

func (s *Server) kmsTagResource(ctx context.Context, c *call, in *kmsapi.TagResourceInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:TagResource")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.Tag(ctx, k.ID, kmsTags(in.Tags))
}

func (s *Server) kmsUntagResource(ctx context.Context, c *call, in *kmsapi.UntagResourceInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:UntagResource")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.Untag(ctx, k.ID, in.TagKeys)
}

func (s *Server) kmsListResourceTags(ctx context.Context, c *call, in *kmsapi.ListResourceTagsInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:ListResourceTags")
	if err != nil {
		return nil, err
	}
	tags, next, err := s.cfg.KMS.ListTags(ctx, k.ID, int(deref(in.Limit)), deref(in.Marker))
	if err != nil {
		return nil, err
	}
	out := &kmsapi.ListResourceTagsOutput{Tags: make([]kmsapi.Tag, 0, len(tags))}
	for _, t := range tags {
		out.Tags = append(out.Tags, kmsapi.Tag{TagKey: ptr(t.Key), TagValue: ptr(t.Value)})
	}
	out.Truncated, out.NextMarker = listOut(next)
	return out, nil
}

func (s *Server) kmsGetKeyPolicy(ctx context.Context, c *call, in *kmsapi.GetKeyPolicyInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:GetKeyPolicy")
	if err != nil {
		return nil, err
	}
	p, err := s.cfg.KMS.GetPolicy(ctx, k.ID, deref(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &kmsapi.GetKeyPolicyOutput{Policy: ptr(p), PolicyName: ptr("default")}, nil
}

func (s *Server) kmsPutKeyPolicy(ctx context.Context, c *call, in *kmsapi.PutKeyPolicyInput) (any, error) {
	k, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:PutKeyPolicy")
	if err != nil {
		return nil, err
	}
	return nil, s.cfg.KMS.PutPolicy(ctx, k.ID, deref(in.PolicyName), deref(in.Policy))
}

func (s *Server) kmsListKeyPolicies(ctx context.Context, c *call, in *kmsapi.ListKeyPoliciesInput) (any, error) {
	if _, err := s.kmsKey(ctx, c, in.KeyId, false, "kms:ListKeyPolicies"); err != nil {
		return nil, err
	}
	return &kmsapi.ListKeyPoliciesOutput{PolicyNames: []string{"default"}, Truncated: ptr(false)}, nil
}

// jsonField is one member of a plaintextOut: a string, or (bin != nil) a
// blob rendered as base64.
type jsonField struct {
	name string
	str  string
	bin  []byte
}

// plaintextOut is the output of an operation that returns plaintext or key
// material (Decrypt, GenerateDataKey, GenerateRandom). It renders itself
// into a buffer of its own so that no copy of the secret stays in a pooled
// buffer, and the edge zeroes both after the response is written.
type plaintextOut struct {
	fields []jsonField
	secret []byte
}

var _ sensitiveOutput = (*plaintextOut)(nil)

func (o *plaintextOut) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, f := range o.fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, f.name) // names are plain ASCII
		dst = append(dst, ':')
		if f.bin != nil {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, f.bin)
			dst = append(dst, '"')
			continue
		}
		q, _ := json.Marshal(f.str) // ids and ARNs, never secret
		dst = append(dst, q...)
	}
	return append(dst, '}')
}

func (o *plaintextOut) wipe() { clear(o.secret) }
