package dev.outpost.appliance.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.ca.CaKeys;
import dev.outpost.appliance.ca.JwtAuthority;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.WorkloadSvidSigner;
import dev.outpost.appliance.refusal.Refusal;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.testkit.MutableClock;

/**
 * The issuance rules on a real store and CA, for the device states a device cannot reach the MQTT endpoint in (a
 * failed or revoked device is kept out at CONNECT): each is refused with its own reason; and a trusted device's
 * workload SVIDs end no later than its identity window (last pass + ca.svidTtl).
 */
class WorkloadServiceTest {
    private static final String TD = "outpost.test";
    private static final Duration SVID_TTL = Duration.ofHours(1);

    @TempDir
    Path dir;
    private Database db;
    private final MutableClock clock = new MutableClock();
    private final Map<String, Instant> passes = new java.util.HashMap<>();
    private DeviceStore devices;
    private EntryStore entries;
    private WorkloadService service;
    private AuditLog audit;

    @BeforeEach
    void open() throws Exception {
        db = Database.open(dir.resolve("data"));
        devices = new DeviceStore(db, clock);
        audit = new AuditLog(db);
        entries = new EntryStore(db, audit);
        SiteCa ca = SiteCa.loadOrCreate(dir.resolve("ca"), TD, "plant", Duration.ofDays(90), clock);
        JwtAuthority jwt = JwtAuthority.loadOrCreate(dir.resolve("ca"), CaKeys.file(), clock);
        service = new WorkloadService(devices, new NodeSelectors(new PolicyStore(db, clock), "plant"), entries,
                id -> Optional.ofNullable(passes.get(id)), (d, p, s) -> Optional.empty(),
                new WorkloadSvidSigner(ca, clock), jwt, SVID_TTL, audit, clock);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private String device(int n, DeviceState state) {
        String id = String.format("%064x", n);
        devices.upsertEnrolled(DeviceRecord.enrolled(id, new byte[] {1}, null, "L-2", new byte[] {2},
                "spiffe://" + TD + "/agent/tpm/" + id, clock.instant(), List.of("tpm:ek-hash:" + id)));
        if (state == DeviceState.REVOKED) {
            devices.revoke(id, "stolen", clock.instant());
        } else {
            devices.setState(id, state, clock.instant());
        }
        passes.put(id, clock.instant().minus(Duration.ofMinutes(50)));
        return id;
    }

    private Entry entryFor(String deviceId, String path) {
        Entry e = EntryRules.check(new EntryRules.Spec("spiffe://" + TD + path, List.of("tpm:ek-hash:" + deviceId),
                List.of("unix:uid:1"), Duration.ofHours(2), Duration.ofMinutes(30), List.of(), List.of()), TD, clock.instant());
        entries.create(e, dev.outpost.appliance.store.AuditEvent.of(clock.instant(), null, "entry",
                dev.outpost.appliance.store.AuditEvent.Decision.INFO, "test", "operator"));
        return e;
    }

    @Test
    void failedAndRevokedDevicesAreRefusedByTheirStateAndATrustedOnesSvidsEndWithItsIdentityWindow() throws Exception {
        String failed = device(1, DeviceState.FAILED);
        String revoked = device(2, DeviceState.REVOKED);
        String pending = device(3, DeviceState.PENDING);
        String trusted = device(4, DeviceState.TRUSTED);
        Entry ef = entryFor(failed, "/f");
        Entry er = entryFor(revoked, "/r");
        Entry ep = entryFor(pending, "/p");
        Entry et = entryFor(trusted, "/t");

        assertRefused(() -> service.x509(failed, ef.id(), csr(ef.spiffeId()), null), Refusal.Why.ATTESTATION_FAILED);
        assertRefused(() -> service.jwt(failed, ef.id(), List.of("x"), null), Refusal.Why.ATTESTATION_FAILED);
        assertRefused(() -> service.entriesFor(failed), Refusal.Why.ATTESTATION_FAILED);
        assertRefused(() -> service.x509(revoked, er.id(), csr(er.spiffeId()), null), Refusal.Why.REVOKED);
        assertRefused(() -> service.entriesFor(revoked), Refusal.Why.REVOKED);
        assertRefused(() -> service.x509(pending, ep.id(), csr(ep.spiffeId()), null), Refusal.Why.NOT_TRUSTED);
        assertRefused(() -> service.jwt(pending, ep.id(), List.of("x"), null), Refusal.Why.NOT_TRUSTED);
        // Trusted, but the entry is another node's.
        assertRefused(() -> service.x509(trusted, ef.id(), csr(ef.spiffeId()), null), Refusal.Why.NOT_YOURS);
        assertThat(service.entriesFor(trusted).entries()).extracting(Entry::id).containsExactly(et.id());

        // The entry allows 2 h and 30 min; the pass was 50 min ago and ca.svidTtl is 1 h: 10 minutes are left.
        WorkloadService.X509 x = service.x509(trusted, et.id(), csr(et.spiffeId()), null);
        Instant window = passes.get(trusted).plus(SVID_TTL);
        assertThat(x.svid().notAfter()).isBeforeOrEqualTo(window).isAfter(window.minusSeconds(2));
        WorkloadService.Jwt j = service.jwt(trusted, et.id(), List.of("x"), null);
        assertThat(j.expiresAt()).isBeforeOrEqualTo(window).isAfter(window.minusSeconds(2));

        // No pass within the window at all: nothing, whatever the stored state says.
        passes.remove(trusted);
        assertRefused(() -> service.jwt(trusted, et.id(), List.of("x"), null), Refusal.Why.NOT_TRUSTED);
        // Audience limits.
        passes.put(trusted, clock.instant());
        assertRefused(() -> service.jwt(trusted, et.id(), List.of(), null), Refusal.Why.MALFORMED);
        assertRefused(() -> service.jwt(trusted, et.id(), List.of("a".repeat(257)), null), Refusal.Why.MALFORMED);
        audit.flushRefusals(clock.instant().plusSeconds(3600));
        assertThat(audit.forDevice(failed, 10)).anySatisfy(e -> assertThat(e.reason()).contains("ATTESTATION_FAILED"));
    }

    private interface Call {
        Object run() throws Exception;
    }

    private static void assertRefused(Call c, Refusal.Why why) {
        assertThatThrownBy(c::run).isInstanceOfSatisfying(Refusal.class, r -> assertThat(r.why()).isEqualTo(why));
    }

    private static byte[] csr(String spiffeId) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair key = g.generateKeyPair();
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("O=w"), key.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())).getEncoded();
    }
}
