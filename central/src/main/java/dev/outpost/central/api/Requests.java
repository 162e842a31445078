package dev.outpost.central.api;

/** The request bodies of docs/upward-link.md, bound strictly by {@link JsonCodec}. */
public final class Requests {
    private Requests() {
    }

    public record TpmBegin(Integer v, String site, String ekPublic, String ekCertificate, String akPublic) {
    }

    public record TpmFinish(Integer v, String joinId, String secret, String csr) {
    }

    public record TokenJoin(Integer v, String site, String token, String csr) {
    }

    public record SiteCa(Integer v, String csr, Long ttlSeconds) {
    }

    public record Credential(Integer v, String csr) {
    }

    /** {@code POST /v1/site/events}; {@code data} stays free JSON (unknown kinds are stored, not refused). */
    /** @param restoredThrough optional: the site's database was restored from a backup that ended at this seq */
    public record Events(Integer v, Long from, Long through, Long restoredThrough, java.util.List<Event> events) {
    }

    public record Event(Long seq, String at, String kind, com.fasterxml.jackson.databind.JsonNode data) {
    }
}
