package dev.outpost.central.directives;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.store.AuditStore;
import dev.outpost.central.store.Database;

/**
 * What the central team decides for every site ({@code outpost-central device revoke}, {@code policy push|assign|
 * delete|list}): each decision is checked, then appended as a directive with the fleet's state and an audit row in
 * one transaction. Input is refused with a reason (IllegalArgumentException) before anything is written. Blocking.
 */
public final class DirectiveAdmin {
    /** A policy travels inside a directive inside one answer of at most 1 MiB (docs/upward-link.md). */
    public static final int MAX_POLICY_BYTES = 384 * 1024;
    static final int MAX_DATA_CHARS = 1_000_000;
    static final int MAX_REASON = 512;
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    // The appliance's rule for policy names and labels (PolicyStore.validName): a name a site would refuse must not
    // enter the fleet's sequence, where it would stop every site at that version.
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final ObjectMapper JSON = new ObjectMapper();
    // The audit table names a site; fleet-wide decisions are central's own.
    static final String FLEET = "*";

    private final Database db;
    private final Clock clock;
    private final DirectiveStore store = new DirectiveStore();
    private final AuditStore audit = new AuditStore();

    public DirectiveAdmin(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** The result of a decision: the directive's version. */
    public record Made(long version, String kind, Map<String, Object> data) {
    }

    public Made ban(String ekHash, String reason, String by) {
        if (ekHash == null || !HEX64.matcher(ekHash).matches()) {
            throw new IllegalArgumentException("EK-HASH must be 64 lowercase hex characters (SHA-256 of the EK's public key, "
                    + "the device id)");
        }
        String why = text(reason, "--reason", MAX_REASON);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("ekHash", ekHash);
        data.put("reason", why);
        return append("device.ban", data, by, (c, version, at) -> {
            if (!store.ban(c, ekHash, why, version, at)) {
                throw new IllegalArgumentException("EK " + ekHash + " is banned already");
            }
        });
    }

    /** {@code kind}: runtime or boot; the content must parse as that kind of policy. */
    public Made push(String name, String kind, byte[] content, String by) {
        name(name, "policy name");
        if (!"runtime".equals(kind) && !"boot".equals(kind)) {
            throw new IllegalArgumentException("--kind must be runtime or boot");
        }
        if (content.length > MAX_POLICY_BYTES) {
            throw new IllegalArgumentException("the policy is " + content.length + " bytes, over the " + MAX_POLICY_BYTES
                    + " a directive carries");
        }
        PolicyCheck.check(kind, content);
        String sha = HexFormat.of().formatHex(sha256(content));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("name", name);
        data.put("kind", kind);
        data.put("content", new String(content, StandardCharsets.UTF_8));
        data.put("sha256", sha);
        return append("policy.put", data, by, (c, version, at) -> store.putPolicy(c, name, kind, sha, content.length, version, at));
    }

    public Made assign(String name, String label, String by) {
        name(name, "policy name");
        name(label, "--label");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("name", name);
        data.put("label", label);
        return append("policy.assign", data, by, (c, version, at) -> {
            if (store.policy(c, name).isEmpty()) {
                throw new IllegalArgumentException("no policy " + name + " (push it first: policy push)");
            }
            if (!store.assign(c, name, label, version)) {
                throw new IllegalArgumentException("policy " + name + " is assigned to label " + label + " already");
            }
        });
    }

    public Made delete(String name, String by) {
        name(name, "policy name");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("name", name);
        return append("policy.delete", data, by, (c, version, at) -> {
            if (!store.deletePolicy(c, name)) {
                throw new IllegalArgumentException("no policy " + name);
            }
        });
    }

    public List<DirectiveStore.FleetPolicy> policies() {
        return db.inTransaction(store::policies);
    }

    public long latest() {
        return db.inTransaction(store::latest);
    }

    @FunctionalInterface
    private interface Effect {
        void apply(java.sql.Connection c, long version, Instant at) throws java.sql.SQLException;
    }

    private Made append(String kind, Map<String, Object> data, String by, Effect effect) {
        String json;
        try {
            json = JSON.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (json.length() > MAX_DATA_CHARS) {
            throw new IllegalArgumentException("the directive is " + json.length() + " characters as JSON, over "
                    + MAX_DATA_CHARS + ": make the policy smaller");
        }
        Instant at = clock.instant();
        String who = by == null || by.isBlank() ? "operator" : by;
        long version = db.inTransaction(c -> {
            long v = store.append(c, kind, json, at, who);
            effect.apply(c, v, at);
            audit.record(c, at, FLEET, kind, true, "directive " + v + " by " + who + ": " + summary(kind, data));
            return v;
        });
        return new Made(version, kind, data);
    }

    private static String summary(String kind, Map<String, Object> data) {
        return switch (kind) {
            case "device.ban" -> "ban EK " + data.get("ekHash") + " (" + data.get("reason") + ")";
            case "policy.put" -> data.get("kind") + " policy " + data.get("name") + " sha256 " + data.get("sha256");
            case "policy.assign" -> "policy " + data.get("name") + " to label " + data.get("label");
            default -> "delete policy " + data.get("name");
        };
    }

    private static void name(String s, String what) {
        if (s == null || !NAME.matcher(s).matches()) {
            throw new IllegalArgumentException(what + " must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter "
                    + "or digit)");
        }
    }

    private static String text(String s, String what, int max) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(what + " is required");
        }
        if (s.length() > max) {
            throw new IllegalArgumentException(what + " is over " + max + " characters");
        }
        if (s.codePoints().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException(what + " must not hold control characters");
        }
        return s;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
