package awsapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coffer-dev/coffer/internal/awsapi/kmsapi"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
	"github.com/coffer-dev/coffer/internal/iam"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// Authorization: every operation asks before doing any work.
//
//   - authorize(ctx, c, action, resourceARN, sec): Secrets Manager. It fills
//     the global keys, the secret's keys (secretsmanager:ResourceTag/…,
//     aws:ResourceTag/…, secretsmanager:SecretId) and the action's request
//     keys from the decoded input (c.input), evaluates the caller's
//     policies together with the secret's resource policy, and, when the
//     operation will use a customer managed KMS key on the caller's behalf,
//     also kms:Decrypt / kms:GenerateDataKey on that key (via Secrets
//     Manager: kms:ViaService and kms:CallerAccount set).
//   - authorizeKMS(ctx, c, action, key, keys): KMS. key is the key the
//     request names (its key policy takes part, with KMS's rule that the key
//     policy must allow the caller or delegate to the account), or nil for
//     actions on "*" (CreateKey, ListKeys, ListAliases, …). keys, if not
//     nil, adds the request's condition keys (kms:EncryptionContext:…,
//     kms:RequestAlias, aws:RequestTag/…, aws:TagKeys, …).
//   - authorizeWith(ctx, c, action, resourceARN, resourcePolicy, keys): the
//     general form the others use (IAM, STS, alias resources).
//
// A denial is AccessDeniedException (JSON, 400) or AccessDenied (query,
// 403) with AWS's message from iam.Decision.Message.

// CondKeys is the condition context of one request (an iam.Context).
// Handlers add their request keys through its methods; global keys
// (aws:SourceIp, aws:SecureTransport, aws:RequestedRegion, aws:UserAgent,
// aws:TokenIssueTime, aws:CurrentTime/EpochTime, aws:Principal…) are
// filled by the authorize functions.
type CondKeys struct {
	vals       iam.Values
	resTags    []kv
	svcTagPfx  string // e.g. "secretsmanager:resourcetag/": also served from resTags
	reqTags    []kv
	tagKeys    []string
	tagKeysSet bool
	encCtx     map[string]string
	encKeys    []string
	scratch    [4][1]string
	si         int
}

type kv struct{ Key, Value string }

var condPool = sync.Pool{New: func() any { return new(CondKeys) }}

func getCondKeys() *CondKeys { return condPool.Get().(*CondKeys) }

func putCondKeys(k *CondKeys) {
	k.vals.Reset()
	clear(k.resTags)
	k.resTags = k.resTags[:0]
	clear(k.reqTags)
	k.reqTags = k.reqTags[:0]
	k.svcTagPfx = ""
	k.tagKeys, k.tagKeysSet = nil, false
	k.encCtx, k.encKeys = nil, nil
	condPool.Put(k)
}

// Set sets a single-valued key.
func (k *CondKeys) Set(key, value string) { k.vals.Set(key, value) }

// SetList sets a multivalued key (the slice is retained).
func (k *CondKeys) SetList(key string, values []string) { k.vals.SetList(key, values) }

// SetBool sets a Bool key.
func (k *CondKeys) SetBool(key string, v bool) { k.vals.Set(key, strconv.FormatBool(v)) }

// ResourceTag adds one aws:ResourceTag/<key> value.
func (k *CondKeys) ResourceTag(key, value string) { k.resTags = append(k.resTags, kv{key, value}) }

// RequestTag adds one aws:RequestTag/<key> value; aws:TagKeys lists the
// keys added so far (unless TagKeys set it explicitly).
func (k *CondKeys) RequestTag(key, value string) { k.reqTags = append(k.reqTags, kv{key, value}) }

// TagKeys sets aws:TagKeys.
func (k *CondKeys) TagKeys(keys []string) { k.tagKeys, k.tagKeysSet = keys, true }

// EncryptionContext sets kms:EncryptionContext:<key> and
// kms:EncryptionContextKeys (the map is retained).
func (k *CondKeys) EncryptionContext(ec map[string]string) {
	k.encCtx = ec
	k.encKeys = make([]string, 0, len(ec))
	for key := range ec {
		k.encKeys = append(k.encKeys, key)
	}
}

func (k *CondKeys) one(v string) []string {
	s := &k.scratch[k.si&3]
	k.si++
	s[0] = v
	return s[:]
}

func tagLookup(tags []kv, lowerKey string) (string, bool) {
	for i := range tags {
		if strings.EqualFold(tags[i].Key, lowerKey) {
			return tags[i].Value, true
		}
	}
	return "", false
}

// Lookup implements iam.Context (keys arrive in lower case).
func (k *CondKeys) Lookup(key string) ([]string, bool) {
	if v, ok := k.vals.Lookup(key); ok {
		return v, true
	}
	switch {
	case strings.HasPrefix(key, "aws:resourcetag/"):
		if v, ok := tagLookup(k.resTags, key[len("aws:resourcetag/"):]); ok {
			return k.one(v), true
		}
	case k.svcTagPfx != "" && strings.HasPrefix(key, k.svcTagPfx):
		if v, ok := tagLookup(k.resTags, key[len(k.svcTagPfx):]); ok {
			return k.one(v), true
		}
	case strings.HasPrefix(key, "aws:requesttag/"):
		if v, ok := tagLookup(k.reqTags, key[len("aws:requesttag/"):]); ok {
			return k.one(v), true
		}
	case key == "aws:tagkeys":
		if k.tagKeysSet {
			return k.tagKeys, true
		}
		if len(k.reqTags) > 0 {
			keys := make([]string, len(k.reqTags))
			for i, t := range k.reqTags {
				keys[i] = t.Key
			}
			return keys, true
		}
	case strings.HasPrefix(key, "kms:encryptioncontext:"):
		want := key[len("kms:encryptioncontext:"):]
		for ek, ev := range k.encCtx {
			if strings.EqualFold(ek, want) {
				return k.one(ev), true
			}
		}
	case key == "kms:encryptioncontextkeys":
		if k.encKeys != nil {
			return k.encKeys, true
		}
	}
	return nil, false
}

// accessDenied renders a denial for the call's protocol.
func accessDenied(c *call, msg string) *apiError {
	if c.service == svcIAM || c.service == svcSTS {
		return &apiError{Type: "AccessDenied", Message: msg, Status: http.StatusForbidden}
	}
	return clientErr("AccessDeniedException", msg)
}

// authorizeWith is the general authorization question: may the caller
// perform action on resource, given the resource's policy (res.Policy nil
// for none) and the request's condition keys (keys may be nil)?
func (s *Server) authorizeWith(ctx context.Context, c *call, action, resource string, res iam.Labeled, keys func(*CondKeys)) error {
	c.noteResource(resource) // for the audit event
	d, err := s.decide(ctx, c, action, resource, res, keys)
	if err != nil {
		return err
	}
	if !d.Allowed {
		return accessDenied(c, d.Message())
	}
	return nil
}

// decide evaluates one request and returns the decision.
func (s *Server) decide(ctx context.Context, c *call, action, resource string, res iam.Labeled, keys func(*CondKeys)) (iam.Decision, error) {
	if c.caller == nil {
		return iam.Evaluate(&iam.Request{Action: action, Resource: resource}, &iam.Set{Resource: res}), nil
	}
	view, err := s.cfg.Identity.View(ctx, c.caller)
	if err != nil {
		return iam.Decision{}, err
	}
	set := view.Set()
	set.Resource = res
	now := c.start // the request's time (aws:CurrentTime), taken once
	if now.IsZero() {
		now = s.now()
	}
	req := iam.Request{Principal: &view.Principal, Action: action, Resource: resource, Time: now}
	if view.Principal.Type == iam.PrincipalRoot && res.Policy == nil {
		return iam.Evaluate(&req, &set), nil // root, nothing to limit it: no context needed
	}
	ck := getCondKeys()
	defer putCondKeys(ck)
	s.globalKeys(c, view, ck)
	if keys != nil {
		keys(ck)
	}
	req.Context = ck
	return iam.Evaluate(&req, &set), nil
}

// globalKeys fills the keys every request has.
func (s *Server) globalKeys(c *call, view *identity.View, ck *CondKeys) {
	if c.sourceIP != "" {
		ck.Set("aws:SourceIp", c.sourceIP)
	}
	if c.r != nil && c.r.TLS != nil {
		ck.Set("aws:SecureTransport", "true")
	} else {
		ck.Set("aws:SecureTransport", "false")
	}
	ck.Set("aws:RequestedRegion", s.cfg.Region)
	if c.userAgent != "" {
		ck.Set("aws:UserAgent", c.userAgent)
	}
	if view.TokenIssueTime != "" {
		ck.Set("aws:TokenIssueTime", view.TokenIssueTime)
	}
}

// ---- Secrets Manager ----

// authorize decides whether the caller may perform a Secrets Manager
// action on resource (an ARN, or "*" for actions without a resource),
// before any work is done. sec is the secret when it exists (its tags and
// resource policy take part). The request keys come from c.input.
func (s *Server) authorize(ctx context.Context, c *call, action, resource string, sec *secrets.Secret) error {
	var res iam.Labeled
	if sec != nil && sec.ResourcePolicy != "" {
		res = iam.Labeled{Label: "resource policy of " + sec.ARN, Policy: s.resourcePolicy(sec)}
	}
	if c.service == svcKMS {
		// KMS handlers that have no key at hand (CreateKey, ListKeys,
		// aliases, GenerateRandom) come through here.
		return s.authorizeWith(ctx, c, action, resource, res, func(ck *CondKeys) {
			s.kmsKeyKeys(ck, nil)
			kmsRequestKeys(ck, action, c.input)
		})
	}
	err := s.authorizeWith(ctx, c, action, resource, res, func(ck *CondKeys) {
		smKeys(ck, c.input, sec)
	})
	if err != nil {
		return err
	}
	return s.smUsesKMS(ctx, c, action, sec)
}

// smKeys fills the secret's and the request's Secrets Manager keys.
// Request keys come from the parameters the caller sent, not from
// defaults (AWS denies a VersionStage condition when VersionStage is not
// sent).
func smKeys(ck *CondKeys, input validator, sec *secrets.Secret) {
	if sec != nil {
		ck.svcTagPfx = "secretsmanager:resourcetag/"
		for _, t := range sec.Tags {
			ck.ResourceTag(t.Key, t.Value)
		}
		if sec.Rotation != nil && sec.Rotation.LambdaARN != "" {
			ck.Set("secretsmanager:resource/AllowRotationLambdaArn", sec.Rotation.LambdaARN)
		}
	}
	setStr := func(key string, v *string) {
		if v != nil {
			ck.Set(key, *v)
		}
	}
	reqTags := func(tags []smapi.Tag) {
		for _, t := range tags {
			ck.RequestTag(deref(t.Key), deref(t.Value))
		}
		if tags != nil && len(tags) == 0 {
			ck.TagKeys([]string{})
		}
	}
	switch in := input.(type) {
	case *smapi.GetSecretValueInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		setStr("secretsmanager:VersionId", in.VersionId)
		setStr("secretsmanager:VersionStage", in.VersionStage)
	case *smapi.CreateSecretInput:
		setStr("secretsmanager:Name", in.Name)
		setStr("secretsmanager:Description", in.Description)
		setStr("secretsmanager:KmsKeyId", in.KmsKeyId)
		setStr("secretsmanager:Type", in.Type)
		reqTags(in.Tags)
		if len(in.AddReplicaRegions) > 0 {
			regions := make([]string, len(in.AddReplicaRegions))
			for i, r := range in.AddReplicaRegions {
				regions[i] = deref(r.Region)
			}
			ck.SetList("secretsmanager:AddReplicaRegions", regions)
		}
		if in.ForceOverwriteReplicaSecret != nil {
			ck.SetBool("secretsmanager:ForceOverwriteReplicaSecret", *in.ForceOverwriteReplicaSecret)
		}
	case *smapi.UpdateSecretInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		setStr("secretsmanager:Description", in.Description)
		setStr("secretsmanager:KmsKeyId", in.KmsKeyId)
		setStr("secretsmanager:Type", in.Type)
	case *smapi.DeleteSecretInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		if in.ForceDeleteWithoutRecovery != nil {
			ck.SetBool("secretsmanager:ForceDeleteWithoutRecovery", *in.ForceDeleteWithoutRecovery)
		}
		if in.RecoveryWindowInDays != nil {
			ck.Set("secretsmanager:RecoveryWindowInDays", strconv.FormatInt(*in.RecoveryWindowInDays, 10))
		}
	case *smapi.PutResourcePolicyInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		if in.BlockPublicPolicy != nil {
			ck.SetBool("secretsmanager:BlockPublicPolicy", *in.BlockPublicPolicy)
		}
	case *smapi.TagResourceInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		reqTags(in.Tags)
	case *smapi.UntagResourceInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		ck.TagKeys(in.TagKeys)
	case *smapi.UpdateSecretVersionStageInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		setStr("secretsmanager:VersionStage", in.VersionStage)
	case *smapi.RotateSecretInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		setStr("secretsmanager:RotationLambdaARN", in.RotationLambdaARN)
		setStr("secretsmanager:ExternalSecretRotationRoleArn", in.ExternalSecretRotationRoleArn)
		if in.RotateImmediately != nil {
			ck.SetBool("secretsmanager:RotateImmediately", *in.RotateImmediately)
		}
		ck.SetBool("secretsmanager:ModifyRotationRules", in.RotationRules != nil)
	case *smapi.ReplicateSecretToRegionsInput:
		setStr("secretsmanager:SecretId", in.SecretId)
		regions := make([]string, len(in.AddReplicaRegions))
		for i, r := range in.AddReplicaRegions {
			regions[i] = deref(r.Region)
		}
		ck.SetList("secretsmanager:AddReplicaRegions", regions)
		if in.ForceOverwriteReplicaSecret != nil {
			ck.SetBool("secretsmanager:ForceOverwriteReplicaSecret", *in.ForceOverwriteReplicaSecret)
		}
	default:
		if id := inputSecretID(input); id != nil {
			setStr("secretsmanager:SecretId", id)
		}
	}
}

// inputSecretID returns the SecretId of the operations whose input has
// nothing but a SecretId of interest.
func inputSecretID(input validator) *string {
	switch in := input.(type) {
	case *smapi.DescribeSecretInput:
		return in.SecretId
	case *smapi.PutSecretValueInput:
		return in.SecretId
	case *smapi.ListSecretVersionIdsInput:
		return in.SecretId
	case *smapi.RestoreSecretInput:
		return in.SecretId
	case *smapi.GetResourcePolicyInput:
		return in.SecretId
	case *smapi.DeleteResourcePolicyInput:
		return in.SecretId
	case *smapi.ValidateResourcePolicyInput:
		return in.SecretId
	case *smapi.CancelRotateSecretInput:
		return in.SecretId
	case *smapi.RemoveRegionsFromReplicationInput:
		return in.SecretId
	case *smapi.StopReplicationToReplicaInput:
		return in.SecretId
	}
	return nil
}

// compiled is a parsed policy cached with the text it came from.
type compiled struct {
	doc string
	p   *iam.Policy
}

// resourcePolicy returns the secret's compiled resource policy (cached by
// ARN and text).
func (s *Server) resourcePolicy(sec *secrets.Secret) *iam.Policy {
	return s.cachedPolicy(&s.resPolicies, sec.ARN, sec.ResourcePolicy, iam.KindResource)
}

func (s *Server) cachedPolicy(m *sync.Map, key, doc string, kind iam.Kind) *iam.Policy {
	if v, ok := m.Load(key); ok {
		if c := v.(*compiled); c.doc == doc {
			return c.p
		}
	}
	p, err := iam.Parse(doc, kind)
	if err != nil {
		// Stored policies were validated when they were set; one that no
		// longer parses fails closed.
		s.log.Warn("stored policy does not parse; denying every request on the resource", "resource", key, "err", err)
		p, _ = iam.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`, kind)
	}
	m.Store(key, &compiled{doc: doc, p: p})
	return p
}

// smUsesKMS checks that a caller of a Secrets Manager operation that will
// use a customer managed KMS key on its behalf may do so: kms:Decrypt to
// read a version, kms:GenerateDataKey to write one, evaluated with the
// key's policy and kms:ViaService = secretsmanager.<region>.amazonaws.com.
// The AWS managed key aws/secretsmanager allows every principal of the
// account through Secrets Manager, so it is not checked.
func (s *Server) smUsesKMS(ctx context.Context, c *call, action string, sec *secrets.Secret) error {
	type use struct {
		action, ref, versionID string
	}
	var uses [2]use
	n := 0
	add := func(a, ref, vid string) { uses[n] = use{a, ref, vid}; n++ }
	switch in := c.input.(type) {
	case *smapi.GetSecretValueInput:
		if action == "secretsmanager:GetSecretValue" && sec != nil && s.anyCustomerKey(ctx, sec) {
			if v, err := secrets.SelectVersion(sec, deref(in.VersionId), deref(in.VersionStage)); err == nil && v.KmsKeyARN != "" {
				add("kms:Decrypt", v.KmsKeyARN, v.ID)
			}
		}
	case *smapi.BatchGetSecretValueInput:
		if action == "secretsmanager:GetSecretValue" && sec != nil && s.anyCustomerKey(ctx, sec) {
			if v := sec.Staged(secrets.StageCurrent); v != nil && v.KmsKeyARN != "" {
				add("kms:Decrypt", v.KmsKeyARN, v.ID)
			}
		}
	case *smapi.CreateSecretInput:
		if action == "secretsmanager:CreateSecret" && (in.SecretString != nil || in.SecretBinary != nil) {
			add("kms:GenerateDataKey", deref(in.KmsKeyId), deref(in.ClientRequestToken))
		}
	case *smapi.PutSecretValueInput:
		if action == "secretsmanager:PutSecretValue" && sec != nil {
			add("kms:GenerateDataKey", sec.KmsKeyID, deref(in.ClientRequestToken))
		}
	case *smapi.UpdateSecretInput:
		if action != "secretsmanager:UpdateSecret" || sec == nil {
			break
		}
		newKey := sec.KmsKeyID
		if in.KmsKeyId != nil {
			newKey = *in.KmsKeyId
		}
		if in.SecretString != nil || in.SecretBinary != nil || (in.KmsKeyId != nil && *in.KmsKeyId != sec.KmsKeyID) {
			add("kms:GenerateDataKey", newKey, deref(in.ClientRequestToken))
		}
		if in.KmsKeyId != nil && *in.KmsKeyId != sec.KmsKeyID {
			if v := sec.Staged(secrets.StageCurrent); v != nil && v.KmsKeyARN != "" {
				add("kms:Decrypt", v.KmsKeyARN, v.ID)
			}
		}
	}
	for _, u := range uses[:n] {
		ref := u.ref
		if ref == "" {
			continue // the default key aws/secretsmanager
		}
		k, err := s.cfg.KMS.Resolve(ctx, ref, true)
		if err != nil || k.Manager != kms.ManagerCustomer {
			continue // the operation itself reports a key it cannot use
		}
		ec := map[string]string{}
		if sec != nil {
			ec["SecretARN"] = sec.ARN
		}
		if u.versionID != "" {
			ec["SecretVersionId"] = u.versionID
		}
		d, err := s.decide(ctx, c, u.action, k.ARN, iam.Labeled{Label: "key policy of " + k.ARN, Policy: s.keyPolicy(k)}, func(ck *CondKeys) {
			s.kmsKeyKeys(ck, k)
			ck.Set("kms:ViaService", "secretsmanager."+s.cfg.Region+".amazonaws.com")
			ck.EncryptionContext(ec)
			if strings.HasPrefix(ref, "alias/") || strings.Contains(ref, ":alias/") {
				ck.Set("kms:RequestAlias", ref[strings.Index(ref, "alias/"):])
			}
		})
		if err != nil {
			return err
		}
		if !d.Allowed {
			return clientErr("AccessDeniedException", "Access to KMS is not allowed")
		}
	}
	return nil
}

// anyCustomerKey reports whether some version of the secret was sealed
// under a key other than the AWS managed aws/secretsmanager key (cheap: no
// store access once that key's ARN is known).
func (s *Server) anyCustomerKey(ctx context.Context, sec *secrets.Secret) bool {
	managed := s.managedKeyARN.Load()
	for i := range sec.Versions {
		arn := sec.Versions[i].KmsKeyARN
		if arn == "" || (managed != nil && arn == *managed) {
			continue
		}
		if managed == nil && s.cfg.KMS.IsAWSManagedKeyARN(ctx, arn) {
			m := arn // a copy: taking arn's address would move it to the heap on every iteration
			s.managedKeyARN.Store(&m)
			continue
		}
		return true
	}
	return false
}

// ---- KMS ----

// keyPolicy returns the key's compiled key policy (cached by key id and
// text).
func (s *Server) keyPolicy(k *kms.Key) *iam.Policy {
	return s.cachedPolicy(&s.keyPolicies, k.ID, k.Policy, iam.KindKeyPolicy)
}

// kmsKeyKeys fills the keys KMS derives from the key and the account.
func (s *Server) kmsKeyKeys(ck *CondKeys, k *kms.Key) {
	ck.Set("kms:CallerAccount", s.cfg.Account)
	if k == nil {
		return
	}
	ck.Set("kms:KeySpec", k.Spec)
	ck.Set("kms:KeyUsage", k.Usage)
	ck.Set("kms:KeyOrigin", k.Origin)
	for _, t := range k.Tags {
		ck.ResourceTag(t.Key, t.Value)
	}
}

// authorizeKMS decides a KMS action. key is the key the request names; its
// key policy takes part as KMS requires (the key policy must allow the
// caller, or delegate to the account so that IAM policies count). For
// actions without a key resource pass nil (the resource is "*").
// kms:CallerAccount, kms:KeySpec, kms:KeyUsage, kms:KeyOrigin and
// aws:ResourceTag/… come from the key, the request keys of the known
// inputs from c.input (kmsRequestKeys); keys, if not nil, adds more, e.g.
//
//	err := s.authorizeKMS(ctx, c, "kms:CreateGrant", key, func(k *CondKeys) {
//		k.SetList("kms:GrantOperations", in.Operations)
//	})
//
// kms:ViaService is absent (a direct call).
func (s *Server) authorizeKMS(ctx context.Context, c *call, action string, key *kms.Key, keys func(*CondKeys)) error {
	resource := "*"
	var res iam.Labeled
	if key != nil {
		resource = key.ARN
		res = iam.Labeled{Label: "key policy of " + key.ARN, Policy: s.keyPolicy(key)}
	}
	return s.authorizeWith(ctx, c, action, resource, res, func(ck *CondKeys) {
		s.kmsKeyKeys(ck, key)
		kmsRequestKeys(ck, action, c.input)
		if keys != nil {
			keys(ck)
		}
	})
}

// kmsRequestKeys fills the condition keys a KMS request carries, from its
// decoded input: kms:EncryptionContext:… and kms:EncryptionContextKeys,
// kms:EncryptionAlgorithm, kms:RequestAlias (the alias the request named
// the key by), aws:RequestTag/… and aws:TagKeys, kms:KeySpec, kms:KeyUsage,
// kms:KeyOrigin and kms:MultiRegion (CreateKey),
// kms:BypassPolicyLockoutSafetyCheck and
// kms:ScheduleKeyDeletionPendingWindowInDays.
func kmsRequestKeys(ck *CondKeys, action string, input validator) {
	ec := func(m map[string]string) {
		if m != nil {
			ck.EncryptionContext(m)
		}
	}
	str := func(key string, v *string) {
		if v != nil {
			ck.Set(key, *v)
		}
	}
	alias := func(ref *string) {
		r := deref(ref)
		if i := strings.Index(r, "alias/"); i >= 0 && (i == 0 || strings.HasPrefix(r, "arn:")) {
			ck.Set("kms:RequestAlias", r[i:])
		}
	}
	tags := func(tags []kmsapi.Tag) {
		for _, t := range tags {
			ck.RequestTag(deref(t.TagKey), deref(t.TagValue))
		}
	}
	switch in := input.(type) {
	case *kmsapi.EncryptInput:
		ec(in.EncryptionContext)
		str("kms:EncryptionAlgorithm", in.EncryptionAlgorithm)
		alias(in.KeyId)
	case *kmsapi.DecryptInput:
		ec(in.EncryptionContext)
		str("kms:EncryptionAlgorithm", in.EncryptionAlgorithm)
		alias(in.KeyId)
	case *kmsapi.GenerateDataKeyInput:
		ec(in.EncryptionContext)
		alias(in.KeyId)
	case *kmsapi.GenerateDataKeyWithoutPlaintextInput:
		ec(in.EncryptionContext)
		alias(in.KeyId)
	case *kmsapi.ReEncryptInput:
		if action == "kms:ReEncryptTo" {
			ec(in.DestinationEncryptionContext)
			str("kms:EncryptionAlgorithm", in.DestinationEncryptionAlgorithm)
			alias(in.DestinationKeyId)
		} else {
			ec(in.SourceEncryptionContext)
			str("kms:EncryptionAlgorithm", in.SourceEncryptionAlgorithm)
			alias(in.SourceKeyId)
		}
	case *kmsapi.CreateKeyInput:
		spec := in.KeySpec
		if spec == nil {
			spec = in.CustomerMasterKeySpec
		}
		if spec == nil {
			spec = ptr("SYMMETRIC_DEFAULT")
		}
		ck.Set("kms:KeySpec", *spec)
		if in.KeyUsage != nil {
			ck.Set("kms:KeyUsage", *in.KeyUsage)
		} else {
			ck.Set("kms:KeyUsage", "ENCRYPT_DECRYPT")
		}
		if in.Origin != nil {
			ck.Set("kms:KeyOrigin", *in.Origin)
		} else {
			ck.Set("kms:KeyOrigin", "AWS_KMS")
		}
		ck.SetBool("kms:MultiRegion", deref(in.MultiRegion))
		ck.SetBool("kms:BypassPolicyLockoutSafetyCheck", deref(in.BypassPolicyLockoutSafetyCheck))
		tags(in.Tags)
	case *kmsapi.PutKeyPolicyInput:
		ck.SetBool("kms:BypassPolicyLockoutSafetyCheck", deref(in.BypassPolicyLockoutSafetyCheck))
	case *kmsapi.ScheduleKeyDeletionInput:
		if in.PendingWindowInDays != nil {
			ck.Set("kms:ScheduleKeyDeletionPendingWindowInDays", strconv.FormatInt(*in.PendingWindowInDays, 10))
		}
	case *kmsapi.TagResourceInput:
		tags(in.Tags)
	case *kmsapi.UntagResourceInput:
		ck.TagKeys(in.TagKeys)
	case *kmsapi.DescribeKeyInput:
		alias(in.KeyId)
	}
}
