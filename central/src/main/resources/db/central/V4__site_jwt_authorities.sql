-- JWT authorities of nested sites (docs/workload-api.md "JWT authorities in bundles"): each site posts the public
-- keys it signs JWT-SVIDs with; the trust domain bundle lists every non-revoked site's as use jwt-svid keys. A kid
-- is the base64url of the first 16 bytes of the SHA-256 of the key's SubjectPublicKeyInfo, so it names one key for
-- every site: the primary key refuses a second site claiming it. Portable like V1.
CREATE TABLE site_jwt_authorities (
    kid         VARCHAR(128)   NOT NULL PRIMARY KEY,
    site        VARCHAR(63)    NOT NULL REFERENCES sites (name),
    spki        VARCHAR(4096)  NOT NULL,   -- base64 DER SubjectPublicKeyInfo
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX site_jwt_authorities_site ON site_jwt_authorities (site);
