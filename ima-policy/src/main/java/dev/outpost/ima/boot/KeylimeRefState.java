package dev.outpost.ima.boot;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.ima.policy.PolicyException;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.Guid;

/**
 * Converts the reference state of Keylime's example measured-boot policy (keylime/mba/elchecking/example.py,
 * written by keylime-policy create measured-boot) into our format. Every key is mapped or the conversion fails:
 * a key we dropped would be a check the operator believes is still made. Where our format is looser (Keylime ties
 * shim, grub, kernel, initrd and command line of one "kernels" entry together; we allow any combination of the
 * allowed ones) the result says so in its warnings.
 */
public final class KeylimeRefState {
    private static final Set<String> TOP = Set.of("scrtm_and_bios", "pk", "kek", "db", "dbx", "mokdig", "mokxdig",
            "kernels");
    private static final Set<String> KERNEL = Set.of("shim_authcode_sha256", "grub_authcode_sha256",
            "kernel_authcode_sha256", "initrd_plain_sha256", "kernel_cmdline");
    /** grub logs every file it reads into PCR 9 by path; the initrd is the one named like one. */
    static final String INITRD_TEXT = "(?s).*/(initrd|initramfs)[^/]*";

    private KeylimeRefState() {
    }

    public static GeneratedPolicy convert(byte[] json, BootPolicyLimits limits) {
        JsonNode root = parse(json, limits);
        if (!root.isObject()) {
            throw at("$", "reference state must be an object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!TOP.contains(k)) {
                throw at("$", "unsupported member \"" + k + "\" (its check would be lost)");
            }
        }
        List<String> warnings = new ArrayList<>();
        List<EventDigestRule> rules = new ArrayList<>();
        List<AllowedApplication> scrtm = new ArrayList<>();
        List<AllowedApplication> firmware = new ArrayList<>();
        JsonNode sb = list(root, "scrtm_and_bios", limits);
        for (int i = 0; i < sb.size(); i++) {
            String p = "$.scrtm_and_bios[" + i + "]";
            JsonNode e = sb.get(i);
            object(e, p, Set.of("scrtm", "platform_firmware"));
            if (e.has("scrtm")) {
                scrtm.add(digests(e.get("scrtm"), p + ".scrtm", "scrtm"));
            }
            JsonNode fw = e.has("platform_firmware") ? array(e.get("platform_firmware"), p + ".platform_firmware",
                    limits) : null;
            for (int j = 0; fw != null && j < fw.size(); j++) {
                firmware.add(digests(fw.get(j), p + ".platform_firmware[" + j + "]", "platform firmware"));
            }
        }
        if (sb.size() > 1) {
            warnings.add("scrtm_and_bios has " + sb.size() + " alternatives; any allowed S-CRTM may come with any"
                    + " allowed firmware blob");
        }
        if (!scrtm.isEmpty()) {
            rules.add(new EventDigestRule("S-CRTM (Keylime scrtm)", 0,
                    Set.of(EventType.EV_S_CRTM_CONTENTS.value()), null, scrtm));
        }
        if (!firmware.isEmpty()) {
            rules.add(new EventDigestRule("platform firmware (Keylime platform_firmware)", 0,
                    Set.of(EventType.EV_EFI_PLATFORM_FIRMWARE_BLOB.value(),
                            EventType.EV_EFI_PLATFORM_FIRMWARE_BLOB2.value()), null, firmware));
        }
        mok(root, "mokdig", "MokList", rules, warnings, limits);
        mok(root, "mokxdig", "MokListX", rules, warnings, limits);

        List<AllowedApplication> apps = new ArrayList<>();
        List<CmdlineRule> cmdlines = new ArrayList<>();
        List<AllowedApplication> initrds = new ArrayList<>();
        JsonNode kernels = list(root, "kernels", limits);
        for (int i = 0; i < kernels.size(); i++) {
            String p = "$.kernels[" + i + "]";
            JsonNode k = kernels.get(i);
            object(k, p, KERNEL);
            for (String key : List.of("shim_authcode_sha256", "grub_authcode_sha256", "kernel_authcode_sha256")) {
                if (k.has(key)) {
                    apps.add(new AllowedApplication("kernels[" + i + "] " + key.substring(0, key.indexOf('_')),
                            Map.of(HashAlg.SHA256, hex(k.get(key), p + "." + key, 32))));
                }
            }
            if (k.has("initrd_plain_sha256")) {
                initrds.add(new AllowedApplication("kernels[" + i + "] initrd", Map.of(HashAlg.SHA256,
                        hex(k.get("initrd_plain_sha256"), p + ".initrd_plain_sha256", 32))));
            }
            if (k.has("kernel_cmdline")) {
                String re = text(k.get("kernel_cmdline"), p + ".kernel_cmdline");
                try {
                    cmdlines.add(new CmdlineRule(re));
                } catch (IllegalArgumentException e) {
                    throw at(p + ".kernel_cmdline", e.getMessage());
                }
            }
        }
        if (kernels.size() > 1) {
            warnings.add("kernels has " + kernels.size() + " entries; shim, grub, kernel, initrd and command line"
                    + " are allowed in any combination, not only as Keylime's entries group them");
        }
        if (!cmdlines.isEmpty()) {
            warnings.add("kernel_cmdline values are Python regexes, now read as Java regexes matched in full");
        }
        if (!initrds.isEmpty()) {
            rules.add(new EventDigestRule("initrd (Keylime initrd_plain_sha256)", 9,
                    Set.of(EventType.EV_IPL.value()), new CmdlineRule(INITRD_TEXT), initrds));
        }
        BootPolicy policy = new BootPolicy(BootPolicy.SecureBoot.ENABLED,
                database(root, "pk", SignatureDatabase.Mode.SUBSET, limits),
                database(root, "kek", SignatureDatabase.Mode.SUBSET, limits),
                database(root, "db", SignatureDatabase.Mode.SUBSET, limits),
                database(root, "dbx", SignatureDatabase.Mode.SUPERSET, limits),
                apps.isEmpty() ? null : apps, cmdlines.isEmpty() ? null : cmdlines, rules, Map.of());
        return new GeneratedPolicy(policy, warnings);
    }

    private static void mok(JsonNode root, String key, String text, List<EventDigestRule> rules,
                            List<String> warnings, BootPolicyLimits limits) {
        JsonNode l = list(root, key, limits);
        List<AllowedApplication> allowed = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            allowed.add(digests(l.get(i), "$." + key + "[" + i + "]", text));
        }
        if (allowed.isEmpty()) {
            if (root.has(key)) {
                warnings.add(key + " is empty: " + text + " is not checked");
            }
            return;
        }
        rules.add(new EventDigestRule(text + " (Keylime " + key + "; PCR 14 must be quoted)", 14,
                Set.of(EventType.EV_IPL.value()), new CmdlineRule(java.util.regex.Pattern.quote(text)), allowed));
    }

    private static SignatureDatabase database(JsonNode root, String key, SignatureDatabase.Mode mode,
                                              BootPolicyLimits limits) {
        if (!root.has(key)) {
            return null;
        }
        JsonNode l = array(root.get(key), "$." + key, limits);
        List<AllowedSignature> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            String p = "$." + key + "[" + i + "]";
            JsonNode e = l.get(i);
            object(e, p, Set.of("SignatureOwner", "SignatureData"));
            Guid owner = keylimeGuid(required(e, p, "SignatureOwner"), p + ".SignatureOwner");
            byte[] data = hex(required(e, p, "SignatureData"), p + ".SignatureData", -1);
            if (data.length == 32) {
                out.add(new AllowedSignature(AllowedSignature.Kind.HASH_SHA256, data, null, null, null, owner, null));
            } else if (data.length > 32 && data[0] == 0x30) {
                out.add(new AllowedSignature(AllowedSignature.Kind.CERT_SHA256, HashAlg.SHA256.digest(data), null,
                        null, null, owner, subject(data)));
            } else {
                throw at(p + ".SignatureData", "neither a SHA-256 hash nor a DER certificate");
            }
        }
        return new SignatureDatabase(mode, out);
    }

    private static String subject(byte[] der) {
        try {
            return ((java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(der))).getSubjectX500Principal().getName();
        } catch (java.security.cert.CertificateException | RuntimeException e) {
            return "unparseable certificate";
        }
    }

    /**
     * Keylime prints SignatureOwner as the GUID's 16 bytes in storage order with dashes (EFI_GLOBAL_VARIABLE reads
     * 61dfe48b-ca93-d211-...), not in the canonical form (8be4df61-93ca-11d2-...) we use.
     */
    private static Guid keylimeGuid(JsonNode n, String path) {
        String s = text(n, path);
        if (!s.matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")) {
            throw at(path, "not a GUID");
        }
        return Guid.of(HexFormat.of().parseHex(s.replace("-", "").toLowerCase(java.util.Locale.ROOT)));
    }

    /** A Keylime digest object: {"sha256": "0x..."}, possibly several banks. */
    private static AllowedApplication digests(JsonNode n, String path, String comment) {
        if (!n.isObject() || n.isEmpty()) {
            throw at(path, "must be an object of bank: digest");
        }
        Map<HashAlg, byte[]> d = new EnumMap<>(HashAlg.class);
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            HashAlg bank = HashAlg.fromName(e.getKey()).filter(a -> a.tpmName().equals(e.getKey()))
                    .orElseThrow(() -> at(path, "unknown bank \"" + e.getKey() + "\""));
            d.put(bank, hex(e.getValue(), path + "." + e.getKey(), bank.digestSize()));
        }
        return new AllowedApplication(comment, d);
    }

    private static byte[] hex(JsonNode n, String path, int bytes) {
        String s = text(n, path);
        String h = s.startsWith("0x") ? s.substring(2) : s;
        if ((bytes >= 0 && h.length() != 2 * bytes) || h.isEmpty() || h.length() % 2 != 0
                || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw at(path, bytes >= 0 ? "must be 0x and " + 2 * bytes + " hex digits" : "must be 0x and hex digits");
        }
        return HexFormat.of().parseHex(h.toLowerCase(java.util.Locale.ROOT));
    }

    private static JsonNode parse(byte[] json, BootPolicyLimits limits) {
        if (json.length > limits.maxBytes()) {
            throw at("$", "reference state is larger than " + limits.maxBytes() + " bytes");
        }
        JsonFactory f = JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(limits.maxDepth()).maxStringLength(limits.maxStringLength())
                .maxNameLength(256).maxNumberLength(16).maxDocumentLength(limits.maxBytes()).build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        try {
            JsonNode n = new ObjectMapper(f).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(json);
            if (n == null || n.isMissingNode()) {
                throw at("$", "reference state is empty");
            }
            return n;
        } catch (IOException e) {
            String m = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            throw at("$", "reference state is not usable JSON: " + m);
        }
    }

    private static JsonNode list(JsonNode root, String key, BootPolicyLimits limits) {
        return root.has(key) ? array(root.get(key), "$." + key, limits)
                : new ObjectMapper().createArrayNode();
    }

    private static JsonNode array(JsonNode n, String path, BootPolicyLimits limits) {
        if (!n.isArray()) {
            throw at(path, "must be an array");
        }
        if (n.size() > limits.maxListEntries()) {
            throw at(path, "has more than " + limits.maxListEntries() + " entries");
        }
        return n;
    }

    private static void object(JsonNode n, String path, Set<String> allowed) {
        if (!n.isObject()) {
            throw at(path, "must be an object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw at(path, "unsupported member \"" + k + "\" (its check would be lost)");
            }
        }
    }

    private static JsonNode required(JsonNode n, String path, String key) {
        JsonNode v = n.get(key);
        if (v == null) {
            throw at(path, "missing member \"" + key + "\"");
        }
        return v;
    }

    private static String text(JsonNode n, String path) {
        if (!n.isTextual()) {
            throw at(path, "must be a string");
        }
        return n.textValue();
    }

    private static PolicyException at(String path, String reason) {
        return new PolicyException(path + ": " + reason);
    }
}
