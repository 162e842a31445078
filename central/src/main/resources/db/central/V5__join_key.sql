-- The key a site's credential was first issued for at its join (SHA-256 of its SubjectPublicKeyInfo, hex): a site
-- whose join answer was lost repeats the join with the same key, and central answers that repeat (and only that one)
-- again instead of "already joined" (docs/upward-link.md "Joining"). Null for sites joined before this column.
ALTER TABLE sites ADD COLUMN join_key_sha256 VARCHAR(64);
