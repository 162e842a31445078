-- What a site proved at its join, kept with the site:
-- join_key_sha256: the key its first credential was issued for (SHA-256 of its SubjectPublicKeyInfo, hex): a site
--   whose join answer was lost repeats the join with the same key, and central answers that repeat (and only that
--   one) again instead of "already joined" (docs/upward-link.md "A lost answer").
-- ak_public: the AK (TPM2B_PUBLIC, base64) whose credential activation finished a TPM join, so the AK that
--   certifies the site's audit checkpoints can be compared with it (`outpost-central events audit-chain`).
-- Null for sites joined before these columns, and ak_public for sites joined by token.
ALTER TABLE sites ADD COLUMN join_key_sha256 VARCHAR(64);
ALTER TABLE sites ADD COLUMN ak_public VARCHAR(4096);
