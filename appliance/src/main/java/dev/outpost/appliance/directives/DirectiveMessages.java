package dev.outpost.appliance.directives;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.appliance.upstream.SiteApiMessages;
import dev.outpost.appliance.upstream.UpstreamException;
import dev.outpost.ima.boot.BootPolicyJson;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.tpm.HashAlg;

/**
 * Parses {@code GET /v1/site/directives} strictly, as SiteApiMessages does the rest of the site API: exactly the
 * contract's fields, versions increasing and above what was asked, each directive's data checked for its kind
 * (names and labels by the site's own rules, a policy parsed by the verifier's loader and matched to its SHA-256).
 * A malformed envelope refuses the page. A directive this site cannot use (a kind it does not know, a policy its
 * verifier refuses) ends the page there: the ones before it are applied, it and those after it are not (applying
 * them would skip it, and a directive is never skipped). Pure: tested without a network.
 */
public final class DirectiveMessages {
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16)
                    .maxStringLength(SiteApiMessages.MAX_RESPONSE_BYTES).build()).build());
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    static final int MAX_PER_PAGE = 100;
    static final int MAX_REASON = 1024;

    private DirectiveMessages() {
    }

    public static Directive.Page page(byte[] body, long after) throws UpstreamException {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            throw bad("not JSON: " + e.getMessage());
        }
        fields(n, "response", "v", "latest", "directives");
        if (!n.get("v").isInt() || n.get("v").intValue() != 1) {
            throw bad("\"v\" must be 1");
        }
        long latest = version(n.get("latest"), "latest");
        JsonNode list = n.get("directives");
        if (!list.isArray() || list.size() > MAX_PER_PAGE) {
            throw bad("\"directives\" must be an array of at most " + MAX_PER_PAGE);
        }
        List<Directive> out = new ArrayList<>();
        long last = after;
        for (JsonNode d : list) {
            // The envelope of every directive is checked (a page with versions out of order is not central's);
            // the first one whose content this site cannot use ends the page there.
            fields(d, "a directive", "version", "kind", "data");
            long v = version(d.get("version"), "version");
            if (v <= last) {
                throw bad("directive " + v + " is not after " + last + ": versions must increase");
            }
            if (v > latest) {
                throw bad("directive " + v + " is past \"latest\" " + latest);
            }
            last = v;
        }
        for (JsonNode d : list) {
            long v = d.get("version").longValue();
            try {
                out.add(directive(v, text(d, "kind", 32), d.get("data")));
            } catch (UpstreamException e) {
                return new Directive.Page(latest, List.copyOf(out), e.getMessage());
            }
        }
        return new Directive.Page(latest, List.copyOf(out), null);
    }

    private static Directive directive(long v, String kind, JsonNode data) throws UpstreamException {
        String where = "directive " + v + " (" + kind + ")";
        try {
            switch (kind) {
                case "device.ban" -> {
                    fields(data, where, "ekHash", "reason");
                    String ek = text(data, "ekHash", 64);
                    if (!HEX64.matcher(ek).matches()) {
                        throw bad("ekHash must be 64 lowercase hex characters");
                    }
                    return new Directive.Ban(v, ek, text(data, "reason", MAX_REASON));
                }
                case "policy.put" -> {
                    fields(data, where, "name", "kind", "content", "sha256");
                    String name = name(data, "name");
                    PolicyStore.Kind k = switch (text(data, "kind", 8)) {
                        case "runtime" -> PolicyStore.Kind.RUNTIME;
                        case "boot" -> PolicyStore.Kind.BOOT;
                        default -> throw bad("kind must be runtime or boot");
                    };
                    byte[] content = text(data, "content", SiteApiMessages.MAX_RESPONSE_BYTES).getBytes(StandardCharsets.UTF_8);
                    String sha = HexFormat.of().formatHex(HashAlg.SHA256.digest(content));
                    if (!sha.equals(text(data, "sha256", 64))) {
                        throw bad("the content's SHA-256 is " + sha + ", not the one declared");
                    }
                    try {
                        if (k == PolicyStore.Kind.RUNTIME) {
                            PolicyLoader.unsigned().load(content);
                        } else {
                            new BootPolicyJson().read(content);
                        }
                    } catch (RuntimeException e) {
                        throw bad("not a valid " + k.db() + " policy: " + e.getMessage());
                    }
                    return new Directive.PolicyPut(v, name, k, content, sha);
                }
                case "policy.assign" -> {
                    fields(data, where, "name", "label");
                    return new Directive.PolicyAssign(v, name(data, "name"), name(data, "label"));
                }
                case "policy.delete" -> {
                    fields(data, where, "name");
                    return new Directive.PolicyDelete(v, name(data, "name"));
                }
                default -> throw bad("a kind this site does not know: upgrade the appliance");
            }
        } catch (UpstreamException e) {
            throw bad(where + ": " + e.getMessage());
        }
    }

    private static String name(JsonNode n, String field) throws UpstreamException {
        String s = text(n, field, 64);
        if (!PolicyStore.validName(s)) {
            throw bad(field + " must be 1-64 letters, digits, '.', '_' or '-'");
        }
        return s;
    }

    private static long version(JsonNode n, String field) throws UpstreamException {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
            throw bad("\"" + field + "\" must be a non-negative integer");
        }
        return n.longValue();
    }

    private static String text(JsonNode n, String field, int max) throws UpstreamException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
            throw bad("\"" + field + "\" must be a non-empty string");
        }
        if (v.textValue().length() > max) {
            throw bad("\"" + field + "\" is over " + max + " characters");
        }
        return v.textValue();
    }

    private static void fields(JsonNode n, String what, String... names) throws UpstreamException {
        if (n == null || !n.isObject()) {
            throw bad(what + " must be a JSON object");
        }
        Set<String> want = Set.of(names);
        for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!want.contains(f)) {
                throw bad(what + ": unknown field \"" + f + "\"");
            }
        }
        for (String f : names) {
            if (!n.has(f)) {
                throw bad(what + ": \"" + f + "\" is missing");
            }
        }
    }

    private static UpstreamException bad(String why) {
        return new UpstreamException(0, null, "central's directives: " + why);
    }
}
