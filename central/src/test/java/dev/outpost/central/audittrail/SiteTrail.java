package dev.outpost.central.audittrail;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.outpost.auditchain.ChainLink;
import dev.outpost.auditchain.CheckpointAnchor;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.nvanchor.ExtendIndex;
import dev.outpost.tpm.nvanchor.NvCertification;

/**
 * A site's audit trail as its outbox sends it upward: {@code audit} event data built with the shared encoding (the
 * fields the appliance's AuditLog sends) and {@code audit.checkpoint} data certified by a real AK on swtpm (as
 * TpmAnchor sends it). Events are kept in outbox order; {@link #drop} takes one out as coalescing does.
 */
public final class SiteTrail implements AutoCloseable {
    static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");
    private static final HexFormat HEX = HexFormat.of();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One event in outbox order: kind and data. */
    public record Event(String kind, Map<String, Object> data) {
    }

    private final List<Event> events = new ArrayList<>();
    private final long[] seq = new long[2];
    private final byte[][] head = {ChainLink.ZERO, ChainLink.ZERO};
    private long id;
    private long checkpointId;
    private byte[] nv;
    private final Tpm2 tpm;
    private final TpmKey ek;
    private final AttestationKey ak;

    /** @param tpmUri swtpm's URI, or null for a trail without checkpoints */
    public SiteTrail(String tpmUri) throws Exception {
        if (tpmUri == null) {
            tpm = null;
            ek = null;
            ak = null;
            return;
        }
        tpm = Tpm2.open(tpmUri);
        ek = Endorsement.load(tpm, EkTemplate.RSA_2048);
        ExtendIndex.ensure(tpm, ExtendIndex.DEFAULT_INDEX);
        nv = ExtendIndex.read(tpm, ExtendIndex.DEFAULT_INDEX).orElse(null); // a TPM anchored before starts from there
        ak = AttestationKey.create(tpm, ek, AkTemplate.ECC_P256);
    }

    public byte[] akPublic() {
        return ak.pub().encodedSized();
    }

    /** Appends one record to its chain, as AuditLog does, and queues its event. */
    public SiteTrail record(boolean lasting, String action, String reason) {
        int i = lasting ? 1 : 0;
        Instant at = ChainLink.storedInstant(T0.plusMillis(id * 1000 + 123));
        ChainLink l = new ChainLink(lasting, seq[i] + 1, head[i], at, "ab".repeat(32), action,
                lasting ? "deny" : "allow", reason, null);
        byte[] h = l.hash();
        seq[i] = l.seq();
        head[i] = h;
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("id", ++id);
        d.put("at", at.toString());
        d.put("deviceId", l.deviceId());
        d.put("action", l.action());
        d.put("decision", l.decision());
        d.put("reason", l.reason());
        d.put("detail", l.detail());
        d.put("chain", lasting ? "lasting" : "routine");
        d.put("seq", l.seq());
        d.put("prev", HEX.formatHex(l.prev()));
        d.put("hash", HEX.formatHex(h));
        events.add(new Event("audit", d));
        return this;
    }

    public SiteTrail records(int routine, int lasting) {
        for (int k = 0; k < Math.max(routine, lasting); k++) {
            if (k < routine) {
                record(false, "renew", "routine " + k);
            }
            if (k < lasting) {
                record(true, "revoke", "lasting " + k);
            }
        }
        return this;
    }

    /** Anchors both heads: extend, certify by the AK over a fresh qualifying value, queue the event. */
    public SiteTrail checkpoint() {
        byte[] anchor = CheckpointAnchor.anchor(seq[0], head[0], seq[1], head[1]);
        ExtendIndex.extend(tpm, ExtendIndex.DEFAULT_INDEX, anchor);
        nv = ExtendIndex.extended(nv, anchor);
        byte[] qualifying = new byte[32];
        RANDOM.nextBytes(qualifying);
        NvCertification c;
        try (TpmKey loaded = ak.load(tpm, ek)) {
            c = ExtendIndex.certify(tpm, loaded, ExtendIndex.DEFAULT_INDEX, qualifying);
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("id", ++checkpointId);
        d.put("at", T0.plusSeconds(id).toString());
        d.put("routineSeq", seq[0]);
        d.put("routineHash", HEX.formatHex(head[0]));
        d.put("lastingSeq", seq[1]);
        d.put("lastingHash", HEX.formatHex(head[1]));
        d.put("nvIndex", ExtendIndex.DEFAULT_INDEX);
        d.put("nvValue", HEX.formatHex(nv));
        d.put("qualifying", HEX.formatHex(qualifying));
        d.put("attest", HEX.formatHex(c.attest()));
        d.put("signature", HEX.formatHex(c.signature()));
        d.put("akPublic", HEX.formatHex(akPublic()));
        events.add(new Event("audit.checkpoint", d));
        return this;
    }

    /** Removes the audit event of {@code chain} seq {@code s} (as the outbox coalesces, or as tampering deletes). */
    public SiteTrail drop(String chain, long s) {
        events.removeIf(e -> e.kind().equals("audit") && chain.equals(e.data().get("chain"))
                && ((Number) e.data().get("seq")).longValue() == s);
        return this;
    }

    /** The audit event of {@code chain} seq {@code s} (mutable: tests edit it). */
    public Map<String, Object> audit(String chain, long s) {
        return events.stream().filter(e -> e.kind().equals("audit") && chain.equals(e.data().get("chain"))
                && ((Number) e.data().get("seq")).longValue() == s).findFirst().orElseThrow().data();
    }

    public Map<String, Object> checkpointEvent(long cid) {
        return events.stream().filter(e -> e.kind().equals("audit.checkpoint")
                && ((Number) e.data().get("id")).longValue() == cid).findFirst().orElseThrow().data();
    }

    public List<Event> events() {
        return events;
    }

    @Override
    public void close() {
        if (ek != null) {
            ek.close();
        }
        if (tpm != null) {
            tpm.close();
        }
    }
}
