package dev.outpost.ima.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;
import dev.outpost.tpm.wire.PcrValues;

class BootPolicyEvaluatorTest {

    /** What a verified quote over PCRs 0..9 and every other PCR the log touches would carry for this log. */
    static PcrValues quoteOf(EventLog log) {
        return quoteOf(log, 23);
    }

    /** The same, limited to PCRs up to {@code lastPcr}. */
    static PcrValues quoteOf(EventLog log, int lastPcr) {
        ReplayResult r = PcrReplay.replay(log);
        PcrValues q = new PcrValues();
        for (HashAlg bank : r.banks()) {
            for (int pcr = 0; pcr <= 9; pcr++) {
                q.put(bank, pcr, r.pcrs(bank).getOrDefault(pcr, new byte[bank.digestSize()]));
            }
            r.pcrs(bank).forEach((pcr, v) -> {
                if (pcr <= lastPcr) {
                    q.put(bank, pcr, v);
                }
            });
        }
        return q;
    }

    private static BootPolicy goodPolicy(boolean pinPcrs) {
        return BootPolicyGenerator.generate(new BootLogFixture().log(), pinPcrs).policy();
    }

    private static BootPolicyResult check(BootPolicy p, BootLogFixture f) {
        EventLog log = f.log();
        return BootPolicyEvaluator.evaluate(p, log, quoteOf(log));
    }

    private static List<String> ids(BootPolicyResult r) {
        return r.failures().stream().map(BootFailure::id).toList();
    }

    @Test
    void generatedPolicyPassesItsOwnLogOnlineAndOffline() {
        EventLog log = new BootLogFixture().log();
        GeneratedPolicy g = BootPolicyGenerator.generate(log, true);
        assertThat(g.warnings()).isEmpty();
        BootPolicy p = g.policy();
        assertThat(p.secureBoot()).isEqualTo(BootPolicy.SecureBoot.ENABLED);
        assertThat(p.db().entries()).hasSize(2);
        assertThat(p.dbx().mode()).isEqualTo(SignatureDatabase.Mode.SUPERSET);
        assertThat(p.applications()).extracting(AllowedApplication::comment)
                .containsExactly("shimx64.efi", "grubx64.efi", "vmlinuz-6.1.0");
        assertThat(p.kernelCmdlines()).hasSize(1);

        BootPolicyResult online = BootPolicyEvaluator.evaluate(p, log, quoteOf(log));
        assertThat(online.failures()).isEmpty();
        assertThat(online.passed()).isTrue();
        assertThat(online.pcrsChecked()).isTrue();
        assertThat(online.eventsRead()).isEqualTo(log.events().size());
        BootPolicyResult offline = BootPolicyEvaluator.evaluate(p, log, null);
        assertThat(offline.passed()).isTrue();
        assertThat(offline.pcrsChecked()).isFalse();
    }

    @Test
    void policySurvivesItsJsonForm() {
        BootPolicy p = goodPolicy(true);
        BootPolicyJson json = new BootPolicyJson();
        assertThat(json.read(json.write(p))).isEqualTo(p);
    }

    @Test
    void secureBootOff() {
        BootLogFixture f = new BootLogFixture();
        f.secureBoot = 0;
        BootPolicyResult r = check(goodPolicy(false), f);
        assertThat(ids(r)).containsExactly("boot.secureboot.disabled");
        assertThat(r.failures().get(0).eventIndex()).isEqualTo(2);
        assertThat(r.passed()).isFalse();
    }

    @Test
    void anExtraDbCertificate() {
        BootLogFixture f = new BootLogFixture();
        f.dbCerts.add(BootLogFixture.OTHER_CERT);
        BootPolicyResult r = check(goodPolicy(false), f);
        assertThat(ids(r)).containsExactly("boot.db.unexpected_cert");
        assertThat(r.failures().get(0).message()).contains("Someone Else's CA");
        assertThat(r.failures().get(0).eventIndex()).isEqualTo(5);
    }

    @Test
    void aMissingDbxHash() {
        BootLogFixture f = new BootLogFixture();
        f.dbxHashes.remove(1);
        assertThat(ids(check(goodPolicy(false), f))).containsExactly("boot.dbx.missing_hash");
    }

    @Test
    void moreRevocationsAreFine() {
        BootLogFixture f = new BootLogFixture();
        f.dbxHashes.add(HashAlg.SHA256.digest("newly revoked".getBytes()));
        assertThat(check(goodPolicy(false), f).passed()).isTrue();
    }

    @Test
    void anUnknownBootApplication() {
        BootLogFixture f = new BootLogFixture();
        f.applications.set(2, "vmlinuz-evil");
        BootPolicyResult r = check(goodPolicy(false), f);
        assertThat(ids(r)).containsExactly("boot.application.not_allowed");
        assertThat(r.failures().get(0).message()).contains("vmlinuz-evil");
        assertThat(r.failures().get(0).eventIndex()).isEqualTo(f.log().events().size() - 2);
    }

    @Test
    void aChangedCommandLine() {
        BootLogFixture f = new BootLogFixture();
        f.cmdline += " init=/bin/sh";
        BootPolicyResult r = check(goodPolicy(false), f);
        assertThat(ids(r)).containsExactly("boot.cmdline.not_allowed");
        assertThat(r.failures().get(0).eventIndex()).isEqualTo(f.log().events().size() - 1);
    }

    @Test
    void commandLineRegexesMatchInFull() {
        BootPolicy base = goodPolicy(false);
        BootPolicy p = new BootPolicy(base.secureBoot(), base.pk(), base.kek(), base.db(), base.dbx(),
                base.applications(), List.of(new CmdlineRule("BOOT_IMAGE=/vmlinuz-[0-9.]+ root=/dev/mapper/root ro( quiet)?")),
                List.of(), Map.of());
        BootLogFixture f = new BootLogFixture();
        f.cmdline = "BOOT_IMAGE=/vmlinuz-6.2.1 root=/dev/mapper/root ro";
        assertThat(check(p, f).passed()).isTrue();
        f.cmdline = "BOOT_IMAGE=/vmlinuz-6.2.1 root=/dev/mapper/root ro quiet single";
        assertThat(ids(check(p, f))).containsExactly("boot.cmdline.not_allowed");
    }

    @Test
    void aCommandLineWhoseTextIsNotWhatWasHashed() {
        BootLogFixture f = new BootLogFixture();
        f.cmdline = "BOOT_IMAGE=/vmlinuz-6.1.0 root=/dev/mapper/root ro quiet init=/bin/sh";
        f.loggedCmdline = new BootLogFixture().cmdline;
        assertThat(ids(check(goodPolicy(false), f))).containsExactly("boot.log.data_mismatch");
    }

    @Test
    void aPinnedPcrThatDiffers() {
        BootLogFixture f = new BootLogFixture();
        f.extraPostCode = true;
        BootPolicyResult r = check(goodPolicy(true), f);
        assertThat(ids(r)).containsExactly("boot.pcr.mismatch", "boot.pcr.mismatch");
        assertThat(r.failures().get(0).message()).contains("PCR sha1:0");
    }

    @Test
    void aLogThatDoesNotReplayToTheQuoteIsJudgedNoFurther() {
        EventLog good = new BootLogFixture().log();
        BootLogFixture evil = new BootLogFixture();
        evil.applications.set(2, "vmlinuz-evil");
        BootPolicyResult r = BootPolicyEvaluator.evaluate(goodPolicy(false), good, quoteOf(evil.log()));
        assertThat(ids(r)).containsOnly("boot.log.replay_mismatch").hasSize(2);
        assertThat(r.failures().get(0).message()).contains(":4 ");
        assertThat(r.passed()).isFalse();
    }

    @Test
    void aQuotedPcrTheLogLeavesOutMustBeAtReset() {
        EventLog log = new BootLogFixture().log();
        PcrValues q = quoteOf(log);
        q.put(HashAlg.SHA256, 9, HashAlg.SHA256.digest("something unlogged".getBytes()));
        assertThat(ids(BootPolicyEvaluator.evaluate(goodPolicy(false), log, q)))
                .containsExactly("boot.log.replay_mismatch");
    }

    @Test
    void eventsOfAnUnquotedPcrProveNothing() {
        EventLog log = new BootLogFixture().log();
        PcrValues full = quoteOf(log);
        PcrValues q = new PcrValues();
        for (HashAlg bank : List.of(HashAlg.SHA1, HashAlg.SHA256)) {
            new TreeMap<>(full.bank(bank)).forEach((pcr, v) -> {
                if (pcr != 4) {
                    q.put(bank, pcr, v);
                }
            });
        }
        BootPolicyResult r = BootPolicyEvaluator.evaluate(goodPolicy(false), log, q);
        assertThat(ids(r)).containsExactly("boot.log.pcr_not_quoted");
        assertThat(r.failures().get(0).message()).contains("PCR 4");
    }

    @Test
    void onlyQuotedBanksCount() {
        // The device forged the SHA-1 digest of the kernel to the allowed one; only SHA-256 was quoted.
        EventLog log = new BootLogFixture().log();
        PcrValues full = quoteOf(log);
        PcrValues sha256Only = new PcrValues();
        full.bank(HashAlg.SHA256).forEach((pcr, v) -> sha256Only.put(HashAlg.SHA256, pcr, v));
        BootPolicy base = goodPolicy(false);
        List<AllowedApplication> sha1Only = base.applications().stream()
                .map(a -> new AllowedApplication(a.comment(), Map.of(HashAlg.SHA1, a.digests().get(HashAlg.SHA1))))
                .toList();
        BootPolicy p = new BootPolicy(base.secureBoot(), base.pk(), base.kek(), base.db(), base.dbx(), sha1Only,
                base.kernelCmdlines(), List.of(), Map.of());
        assertThat(ids(BootPolicyEvaluator.evaluate(p, log, sha256Only)))
                .containsOnly("boot.application.not_allowed");
        assertThat(BootPolicyEvaluator.evaluate(p, log, full).passed()).isTrue();
    }

    @Test
    void aBankCountsOnlyForThePcrsItWasQuotedFor() {
        // SHA-256 is quoted for every PCR but 4, SHA-1 for every PCR: PCR 4's SHA-256 digests are unproven.
        EventLog log = new BootLogFixture().log();
        PcrValues full = quoteOf(log);
        PcrValues q = new PcrValues();
        full.bank(HashAlg.SHA1).forEach((pcr, v) -> q.put(HashAlg.SHA1, pcr, v));
        full.bank(HashAlg.SHA256).forEach((pcr, v) -> {
            if (pcr != 4) {
                q.put(HashAlg.SHA256, pcr, v);
            }
        });
        BootPolicy base = goodPolicy(false);
        List<AllowedApplication> sha256Only = base.applications().stream()
                .map(a -> new AllowedApplication(a.comment(), Map.of(HashAlg.SHA256, a.digests().get(HashAlg.SHA256))))
                .toList();
        BootPolicy p = new BootPolicy(base.secureBoot(), base.pk(), base.kek(), base.db(), base.dbx(), sha256Only,
                base.kernelCmdlines(), List.of(), Map.of());
        assertThat(ids(BootPolicyEvaluator.evaluate(p, log, q))).containsOnly("boot.application.not_allowed");
        assertThat(BootPolicyEvaluator.evaluate(p, log, full).passed()).isTrue();
    }

    @Test
    void aSha1OnlyQuoteOfASha256OnlyLogIsRefused() {
        EventLog log = new BootLogFixture().log();
        PcrValues q = new PcrValues().put(HashAlg.SHA384, 0, new byte[48]);
        assertThat(ids(BootPolicyEvaluator.evaluate(goodPolicy(false), log, q)))
                .containsExactly("boot.log.no_common_bank");
    }

    @Test
    void certificatesBySubjectAndSerial() {
        BootPolicy base = goodPolicy(false);
        AllowedSignature bySubject = new AllowedSignature(AllowedSignature.Kind.CERT_SUBJECT, null,
                "CN=Test Signing CA 2011", java.math.BigInteger.valueOf(3), null, BootLogFixture.OWNER, null);
        AllowedSignature hash = AllowedSignature.hash(BootLogFixture.DB_HASH, null);
        BootPolicy p = new BootPolicy(base.secureBoot(), base.pk(), base.kek(),
                new SignatureDatabase(SignatureDatabase.Mode.EXACT, List.of(bySubject, hash)), base.dbx(),
                base.applications(), base.kernelCmdlines(), List.of(), Map.of());
        assertThat(check(p, new BootLogFixture()).passed()).isTrue();
        BootLogFixture f = new BootLogFixture();
        f.dbCerts.clear();
        assertThat(ids(check(p, f))).containsExactly("boot.db.missing_cert");
        BootPolicy rt = new BootPolicyJson().read(new BootPolicyJson().write(p));
        assertThat(rt).isEqualTo(p);
    }

    @Test
    void secureBootDisabledLogGetsAWarningAndAnAnyPolicy() {
        BootLogFixture f = new BootLogFixture();
        f.secureBoot = 0;
        GeneratedPolicy g = BootPolicyGenerator.generate(f.log(), false);
        assertThat(g.policy().secureBoot()).isEqualTo(BootPolicy.SecureBoot.ANY);
        assertThat(g.warnings()).anyMatch(w -> w.contains("Secure Boot"));
        assertThat(check(g.policy(), f).passed()).isTrue();
    }
}
