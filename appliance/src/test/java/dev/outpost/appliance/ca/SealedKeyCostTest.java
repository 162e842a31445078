package dev.outpost.appliance.ca;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.seal.SealedBlob;
import dev.outpost.tpm.seal.Sealer;
import dev.outpost.tpm.wire.PcrSelection;

/**
 * What ca.keyProtection: tpm costs, on swtpm: sealing and unsealing a data key (one TPM connection each, the SRK made
 * from its template, everything flushed, as the appliance does), writing and reading a sealed CA key against a plain
 * one (the start-up cost), and signing an SVID with the key loaded either way (the same: it is in memory).
 * Run: {@code mvn -pl appliance -am test -Dtest=SealedKeyCostTest -Doutpost.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@ExtendWith(SwtpmExtension.class)
@EnabledIfSystemProperty(named = "outpost.bench", matches = "true")
class SealedKeyCostTest {
    private static final int N = Integer.getInteger("outpost.bench.n", 20);

    interface Step {
        void run() throws Exception;
    }

    static double ms(Step s) throws Exception {
        for (int i = 0; i < Math.max(3, N / 4); i++) {
            s.run();
        }
        long t = System.nanoTime();
        for (int i = 0; i < N; i++) {
            s.run();
        }
        return (System.nanoTime() - t) / 1e6 / N;
    }

    @Test
    void costs(Swtpm swtpm, @TempDir Path dir) throws Exception {
        String uri = swtpm.uri();
        byte[] secret = new byte[32];
        PcrSelection pcrs = PcrSelection.parse("sha256:0,2,4,7");
        SealedBlob[] plainBlob = new SealedBlob[1];
        SealedBlob[] pcrBlob = new SealedBlob[1];
        double seal = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri)) {
                plainBlob[0] = Sealer.seal(tpm, secret, null);
            }
        });
        double sealPcr = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri)) {
                pcrBlob[0] = Sealer.seal(tpm, secret, pcrs);
            }
        });
        double unseal = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri)) {
                Sealer.unseal(tpm, plainBlob[0]);
            }
        });
        double unsealPcr = ms(() -> {
            try (Tpm2 tpm = Tpm2.open(uri)) {
                Sealer.unseal(tpm, pcrBlob[0]);
            }
        });

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        PrivateKey key = g.generateKeyPair().getPrivate();
        Path fileDir = Files.createDirectory(dir.resolve("file"));
        Path tpmDir = Files.createDirectory(dir.resolve("tpm"));
        CaKeys file = CaKeys.file();
        CaKeys sealed = CaKeys.tpm(uri, null);
        CaKeys sealedPcr = CaKeys.tpm(uri, pcrs);
        Path pcrDir = Files.createDirectory(dir.resolve("pcr"));
        double writeFile = ms(() -> file.write(fileDir, "ca.key", key));
        double writeSealed = ms(() -> sealed.write(tpmDir, "ca.key", key));
        sealedPcr.write(pcrDir, "ca.key", key);
        double readFile = ms(() -> file.read(fileDir, "ca.key"));
        double readSealed = ms(() -> sealed.read(tpmDir, "ca.key"));
        double readSealedPcr = ms(() -> sealedPcr.read(pcrDir, "ca.key"));

        Path caFile = dir.resolve("ca-file");
        Path caTpm = dir.resolve("ca-tpm");
        SiteCa.loadOrCreate(caFile, file, "bench.test", "bench", Duration.ofDays(90), Clock.systemUTC());
        SiteCa.loadOrCreate(caTpm, sealed, "bench.test", "bench", Duration.ofDays(90), Clock.systemUTC());
        double loadFile = ms(() -> SiteCa.load(caFile, file, "bench.test", Clock.systemUTC()));
        double loadTpm = ms(() -> SiteCa.load(caTpm, sealed, "bench.test", Clock.systemUTC()));
        SiteCa a = SiteCa.load(caFile, file, "bench.test", Clock.systemUTC());
        SiteCa b = SiteCa.load(caTpm, sealed, "bench.test", Clock.systemUTC());
        PublicKey subject = g.generateKeyPair().getPublic();
        String id = "ab".repeat(32);
        double issueFile = ms(() -> a.issueNodeSvid(subject, id, Duration.ofHours(1)));
        double issueTpm = ms(() -> b.issueNodeSvid(subject, id, Duration.ofHours(1)));

        System.out.printf("%nBENCH sealed CA key (mean of %d, ms)%n", N);
        System.out.printf("| Sealer.seal, no PCR policy (open, SRK from template, Create, flush) | %.1f |%n", seal);
        System.out.printf("| Sealer.seal, PolicyPCR over sha256:0,2,4,7 (+ PCR_Read) | %.1f |%n", sealPcr);
        System.out.printf("| Sealer.unseal, no PCR policy (open, SRK, Load, Unseal, flush) | %.1f |%n", unseal);
        System.out.printf("| Sealer.unseal, PCR policy (+ policy session, PolicyPCR) | %.1f |%n", unsealPcr);
        System.out.printf("| CaKeys.write file / tpm | %.2f / %.1f |%n", writeFile, writeSealed);
        System.out.printf("| CaKeys.read file / tpm / tpm+PCRs | %.2f / %.1f / %.1f |%n", readFile, readSealed, readSealedPcr);
        System.out.printf("| SiteCa.load (start-up) file / tpm | %.2f / %.1f |%n", loadFile, loadTpm);
        System.out.printf("| SiteCa.issueNodeSvid file-loaded / tpm-loaded | %.3f / %.3f |%n", issueFile, issueTpm);
    }
}
