-- When the background job must next look at a KMS key (kms.Key.DueAt:
-- automatic rotation or deletion date), in Unix milliseconds; 0 = never.
-- (As internal/sqlite 0002_kms_due.)
ALTER TABLE kms_keys ADD COLUMN due_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX kms_keys_by_due ON kms_keys (due_ms) WHERE due_ms > 0;
