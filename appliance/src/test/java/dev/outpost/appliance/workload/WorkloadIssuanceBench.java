package dev.outpost.appliance.workload;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

import dev.outpost.appliance.ca.CaKeys;
import dev.outpost.appliance.ca.JwtAuthority;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.WorkloadSvidSigner;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.spiffe.SpiffeId;

/**
 * Workload SVIDs issued per second at the appliance, warmed in-process (not a surefire default: the name does not end
 * in Test; run it with -Dtest=WorkloadIssuanceBench). Levels: the signing path alone (CSR checks + certificate); the
 * service as the MQTT handler calls it (device and entry lookups, trust check, CSR, certificate, audit row) on a real
 * H2 store, on 1 and 2 threads; and JWT-SVIDs through the service.
 */
class WorkloadIssuanceBench {
    private static final int CSRS = 64;
    private static final String TD = "outpost.test";

    @Test
    void measure() throws Exception {
        Path dir = Files.createTempDirectory("workload-bench-");
        Clock clock = Clock.systemUTC();
        try (Database db = Database.open(dir.resolve("data"))) {
            DeviceStore devices = new DeviceStore(db, clock);
            AuditLog audit = new AuditLog(db);
            EntryStore entries = new EntryStore(db, audit);
            SiteCa ca = SiteCa.loadOrCreate(dir.resolve("ca"), TD, "bench", Duration.ofDays(90), clock);
            JwtAuthority jwt = JwtAuthority.loadOrCreate(dir.resolve("ca"), CaKeys.file(), clock);
            WorkloadSvidSigner signer = new WorkloadSvidSigner(ca, clock);
            String id = "ab".repeat(32);
            devices.upsertEnrolled(DeviceRecord.enrolled(id, new byte[] {1}, null, "L-2", new byte[] {2},
                    "spiffe://" + TD + "/agent/tpm/" + id, clock.instant(), List.of("tpm:ek-hash:" + id)));
            devices.setState(id, DeviceState.TRUSTED, clock.instant());
            Instant passed = clock.instant();
            // Entries of other nodes too, so the lookup walks a realistic set.
            for (int i = 0; i < 200; i++) {
                Entry e = EntryRules.check(new EntryRules.Spec("spiffe://" + TD + "/app/" + i,
                        List.of(i == 0 ? "tpm:ek-hash:" + id : "tpm:ek-hash:" + String.format("%064x", i)),
                        List.of("unix:uid:" + i), null, null, List.of(), List.of("svc" + i + ".local")), TD, clock.instant());
                entries.create(e, AuditEvent.of(clock.instant(), null, "entry", AuditEvent.Decision.INFO, "bench", "operator"));
            }
            Entry mine = entries.list().stream().filter(e -> e.spiffeId().endsWith("/app/0")).findFirst().orElseThrow();
            WorkloadService service = new WorkloadService(devices, new NodeSelectors(new PolicyStore(db, clock), "bench"),
                    entries, d -> Optional.of(passed), (d, p, s) -> Optional.empty(), signer, jwt, Duration.ofHours(1),
                    audit, clock);
            List<byte[]> csrs = new ArrayList<>();
            for (int i = 0; i < CSRS; i++) {
                csrs.add(csr(mine.spiffeId(), mine.dnsNames()));
            }
            SpiffeId sid = SpiffeId.parse(mine.spiffeId());
            run("signing path: WorkloadCsr.check + WorkloadSvidSigner.issue, 1 thread", 3000, i ->
                    signer.issue(WorkloadCsr.check(csrs.get(i % CSRS), mine), sid, mine.dnsNames(),
                            clock.instant().plus(Duration.ofHours(1))));
            run("WorkloadService.x509 (lookups, trust, CSR, sign, audit row), 1 thread", 3000, i ->
                    service.x509(id, mine.id(), csrs.get(i % CSRS), null));
            runParallel("WorkloadService.x509, 2 threads", 3000, 2, i -> service.x509(id, mine.id(), csrs.get(i % CSRS), null));
            run("WorkloadService.jwt (lookups, trust, ES256 sign, audit row), 1 thread", 3000, i ->
                    service.jwt(id, mine.id(), List.of("billing"), null));
            audit.flushRefusals(clock.instant());
        }
    }

    interface Op {
        void run(int i) throws Exception;
    }

    private static void run(String what, int n, Op op) throws Exception {
        for (int i = 0; i < n / 2; i++) {
            op.run(i);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            op.run(i);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("BENCH %-80s %8.0f /s (%d in %.2f s)%n", what, n / s, n, s);
    }

    private static void runParallel(String what, int n, int threads, Op op) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 2; round++) {
                long t0 = System.nanoTime();
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int base = t;
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < n / threads; i++) {
                            op.run(base + i * threads);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (round == 1) {
                    System.out.printf("BENCH %-80s %8.0f /s (%d in %.2f s)%n", what, n / s, n, s);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] csr(String spiffeId, List<String> dns) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair key = g.generateKeyPair();
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
        dns.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("O=w"), key.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())).getEncoded();
    }
}
