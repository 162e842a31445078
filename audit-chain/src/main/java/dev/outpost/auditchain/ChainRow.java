package dev.outpost.auditchain;

/**
 * A stored record as a verifier reads it: its chained fields, and the hash as stored (which tampering may have
 * changed). {@code id} is the appliance's audit row id (ids grow with seq for rows the appliance wrote; central passes
 * the id the site sent with the record).
 */
public record ChainRow(long id, ChainLink link, byte[] storedHash) {
}
