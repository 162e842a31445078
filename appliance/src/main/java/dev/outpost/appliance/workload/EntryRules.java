package dev.outpost.appliance.workload;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

import dev.outpost.mqtt.protocol.WorkloadEntry;
import dev.outpost.spiffe.SpiffeId;

/**
 * What a registration entry may say (docs/workload-api.md). Every field comes from an operator through the admin
 * API and goes to devices: each is checked against a closed grammar, so an entry never carries a selector the agent
 * could read otherwise than the appliance, nor an ID the site does not own. Refusals say which field and why.
 */
public final class EntryRules {
    public static final String IMA_VERIFIED = "ima:verified";
    public static final Duration DEFAULT_X509_TTL = Duration.ofHours(1);
    public static final Duration MIN_X509_TTL = Duration.ofMinutes(1);
    public static final Duration MAX_X509_TTL = Duration.ofHours(24);
    public static final Duration DEFAULT_JWT_TTL = Duration.ofMinutes(5);
    public static final Duration MIN_JWT_TTL = Duration.ofSeconds(30);
    public static final Duration MAX_JWT_TTL = Duration.ofHours(1);
    public static final int MAX_PARENTS = 16;
    static final int MAX_SELECTOR_CHARS = 256;

    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
    /** Node selectors: what enrollment and attestation give a node (see NodeSelectors); not outpost:state. */
    private static final List<Pattern> PARENT = List.of(
            Pattern.compile("tpm:ek-hash:[0-9a-f]{64}"),
            Pattern.compile("tpm:ek-manufacturer:[A-Za-z0-9:._-]{1,128}"),
            Pattern.compile("tpm:ek-model:[A-Za-z0-9:._-]{1,128}"),
            Pattern.compile("outpost:node-key:(tpm|software)"),
            Pattern.compile("outpost:policy:" + NAME),
            Pattern.compile("outpost:label:" + NAME),
            Pattern.compile("outpost:site:[A-Za-z0-9][A-Za-z0-9._-]{0,127}"));
    /** Workload selectors: what the agent derives from a caller's peer credentials. */
    private static final List<Pattern> WORKLOAD = List.of(
            Pattern.compile("unix:uid:(0|[1-9][0-9]{0,9})"),
            Pattern.compile("unix:gid:(0|[1-9][0-9]{0,9})"),
            Pattern.compile("unix:user:[a-z_][a-z0-9_.-]{0,31}\\$?"),
            Pattern.compile("unix:group:[a-z_][a-z0-9_.-]{0,31}\\$?"),
            Pattern.compile("unix:path:/[\\x21-\\x7e]{0,240}"),
            Pattern.compile("unix:sha256:[0-9a-f]{64}"),
            Pattern.compile(Pattern.quote(IMA_VERIFIED)));
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private EntryRules() {
    }

    /** What an operator asked for; null TTLs take the defaults. */
    public record Spec(String spiffeId, List<String> parents, List<String> selectors, Duration x509Ttl,
            Duration jwtTtl, List<String> federatesWith, List<String> dnsNames) {
    }

    /** The entry {@code spec} describes, with a fresh id; throws {@link IllegalArgumentException} naming the fault. */
    public static Entry check(Spec spec, String trustDomain, Instant now) {
        SpiffeId id;
        try {
            id = SpiffeId.parse(spec.spiffeId());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("spiffe-id: " + e.getMessage());
        }
        if (!id.trustDomain().equals(trustDomain)) {
            throw new IllegalArgumentException("spiffe-id: " + id + " is not in this site's trust domain " + trustDomain);
        }
        if (id.path().isEmpty()) {
            throw new IllegalArgumentException("spiffe-id: the trust domain's own ID names no workload; give a path");
        }
        if (id.path().equals("/agent") || id.path().startsWith("/agent/")) {
            throw new IllegalArgumentException("spiffe-id: " + id + " is under /agent/, where node IDs live");
        }
        List<String> parents = distinct("parent", spec.parents(), MAX_PARENTS);
        if (parents.isEmpty()) {
            throw new IllegalArgumentException("parent: at least one node selector is required (see device show)");
        }
        for (String p : parents) {
            if (p.startsWith("outpost:state:")) {
                throw new IllegalArgumentException("parent: " + p + ": state is not a parent selector; it is checked "
                        + "on every issuance instead (only trusted nodes get workload SVIDs)");
            }
            if (PARENT.stream().noneMatch(r -> r.matcher(p).matches())) {
                throw new IllegalArgumentException("parent: " + show(p) + " is not a node selector (tpm:ek-hash:<hex>, "
                        + "tpm:ek-manufacturer:<id>, tpm:ek-model:<id>, outpost:node-key:tpm|software, "
                        + "outpost:policy:<name>, outpost:label:<label>, outpost:site:<site>)");
            }
        }
        List<String> selectors = distinct("selector", spec.selectors(), WorkloadEntry.MAX_SELECTORS);
        if (selectors.isEmpty()) {
            throw new IllegalArgumentException("selector: at least one workload selector is required");
        }
        for (String s : selectors) {
            if (WORKLOAD.stream().noneMatch(r -> r.matcher(s).matches())) {
                throw new IllegalArgumentException("selector: " + show(s) + " is not a workload selector (unix:uid:<n>, "
                        + "unix:gid:<n>, unix:user:<name>, unix:group:<name>, unix:path:/<path>, unix:sha256:<hex>, "
                        + IMA_VERIFIED + ")");
            }
        }
        if (selectors.equals(List.of(IMA_VERIFIED))) {
            throw new IllegalArgumentException("selector: " + IMA_VERIFIED + " alone matches any measured binary; "
                    + "name the workload too (unix:path:, unix:uid:, ...)");
        }
        Duration x509 = ttl("ttl", spec.x509Ttl(), DEFAULT_X509_TTL, MIN_X509_TTL, MAX_X509_TTL);
        Duration jwt = ttl("jwt-ttl", spec.jwtTtl(), DEFAULT_JWT_TTL, MIN_JWT_TTL, MAX_JWT_TTL);
        List<String> federates = distinct("federates-with", spec.federatesWith(), WorkloadEntry.MAX_FEDERATES_WITH);
        for (String td : federates) {
            try {
                SpiffeId.checkTrustDomain(td);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("federates-with: " + e.getMessage());
            }
            if (td.equals(trustDomain)) {
                throw new IllegalArgumentException("federates-with: " + td + " is this site's own trust domain");
            }
        }
        List<String> dns = distinct("dns", spec.dnsNames(), WorkloadEntry.MAX_DNS_NAMES);
        for (String d : dns) {
            checkDns(d);
        }
        return new Entry(UUID.randomUUID().toString(), id.toString(), parents, selectors, x509, jwt, federates, dns, now);
    }

    /** A DNS name for a SAN: lowercase LDH labels, at most 253 characters, no wildcard. */
    static void checkDns(String d) {
        if (d.length() > 253 || d.endsWith(".")) {
            throw new IllegalArgumentException("dns: " + show(d) + " is not a DNS name (at most 253 characters, no "
                    + "trailing dot)");
        }
        for (String label : d.split("\\.", -1)) {
            if (!DNS_LABEL.matcher(label).matches()) {
                throw new IllegalArgumentException("dns: " + show(d) + " is not a DNS name (lowercase letters, digits "
                        + "and '-', labels of 1-63 characters, no wildcards)");
            }
        }
    }

    private static List<String> distinct(String field, List<String> values, int max) {
        if (values == null) {
            return List.of();
        }
        if (values.size() > max) {
            throw new IllegalArgumentException(field + ": " + values.size() + " given, at most " + max);
        }
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String v : values) {
            if (v == null || v.isEmpty() || v.length() > MAX_SELECTOR_CHARS) {
                throw new IllegalArgumentException(field + ": values must be 1.." + MAX_SELECTOR_CHARS + " characters");
            }
            if (!out.add(v)) {
                throw new IllegalArgumentException(field + ": " + show(v) + " is given twice");
            }
        }
        return new ArrayList<>(out);
    }

    private static Duration ttl(String field, Duration given, Duration dflt, Duration min, Duration max) {
        Duration d = given == null ? dflt : given;
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new IllegalArgumentException(field + ": " + d + " is outside " + min + ".." + max);
        }
        return d;
    }

    static String show(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return "'" + cut.replaceAll("[^\\x20-\\x7e…]", "?") + "'";
    }
}
