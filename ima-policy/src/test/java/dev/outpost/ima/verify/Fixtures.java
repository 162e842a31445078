package dev.outpost.ima.verify;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaListWriter;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.ima.policy.ImaSettings;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.replay.PcrReplay;
import dev.outpost.ima.replay.ReplayVariant;
import dev.outpost.tpm.HashAlg;

/** Lists and policies built in the test, with keys generated per run. */
final class Fixtures {
    static final SecureRandom RANDOM = new SecureRandom();

    private Fixtures() {
    }

    static byte[] digest(HashAlg alg, String content) {
        return alg.digest(content.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] binary(List<ImaEntry> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ImaEntry e : entries) {
            ImaListWriter.writeBinary(out, e);
        }
        return out.toByteArray();
    }

    static byte[] ascii(List<ImaEntry> entries) throws IOException {
        StringWriter w = new StringWriter();
        for (ImaEntry e : entries) {
            ImaListWriter.writeAscii(w, e);
        }
        return w.toString().getBytes(StandardCharsets.UTF_8);
    }

    static ImaEntryReader reader(byte[] list, long firstIndex) throws IOException {
        return ImaLists.open(new ByteArrayInputStream(list), ImaLimits.DEFAULT, firstIndex);
    }

    static byte[] pcr(List<ImaEntry> entries, HashAlg bank, ReplayVariant v) {
        PcrReplay r = new PcrReplay(bank, HashAlg.SHA1);
        entries.forEach(r::extend);
        return r.value(v);
    }

    static byte[] sha1Pcr(List<ImaEntry> entries) {
        return pcr(entries, HashAlg.SHA1, ReplayVariant.NATIVE);
    }

    /** A policy allowing exactly these entries' digests (ima-buf keys go to keyrings, other buffers to ima-buf). */
    static RuntimePolicy allowing(List<ImaEntry> entries, List<String> excludes, String verificationKeys) {
        Map<String, List<String>> digests = new LinkedHashMap<>();
        Map<String, List<String>> keyrings = new LinkedHashMap<>();
        Map<String, List<String>> imaBuf = new LinkedHashMap<>();
        for (ImaEntry e : entries) {
            Map<String, List<String>> target = digests;
            if (e.buffer() != null) {
                target = e.path().startsWith(".") ? keyrings : imaBuf;
            }
            target.computeIfAbsent(e.path(), k -> new ArrayList<>()).add(Hex.encode(e.digest()));
        }
        return new RuntimePolicy(1, 3, null, 0, digests, excludes, keyrings, ImaSettings.DEFAULT, imaBuf,
                verificationKeys);
    }

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    static KeyPair rsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048, RANDOM);
        return g.generateKeyPair();
    }

    /** What evmctl ima_sign writes: a v2 header and a signature over the file digest. */
    static byte[] imaSig(KeyPair kp, HashAlg alg, byte[] fileDigest) throws Exception {
        PrivateKey k = kp.getPrivate();
        Signature s;
        byte[] data;
        if (k.getAlgorithm().equals("RSA")) {
            s = Signature.getInstance("NONEwithRSA");
            data = ImaSignature.digestInfo(alg, fileDigest);
        } else {
            s = Signature.getInstance("NONEwithECDSA");
            data = fileDigest;
        }
        s.initSign(k, RANDOM);
        s.update(data);
        return new ImaSignature(alg, KeyIds.keyIdV2(kp.getPublic()), s.sign()).encode();
    }

    static String keysJson(PublicKey... keys) {
        return dev.outpost.ima.policy.VerificationKeys.serialize(Map.of(".ima", List.of(keys)));
    }
}
