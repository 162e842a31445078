package dev.outpost.appliance.directives;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.ima.policy.RuntimePolicyBuilder;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.tpm.HashAlg;

/** The applier on a real H2: exactly once across a crash inside the transaction, and the site's own policy wins. */
class DirectiveApplierTest {
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    @TempDir
    Path dir;
    Database db;
    DeviceStore devices;
    PolicyStore policies;
    AuditLog audit;
    CentralBans bans;
    DirectiveApplier applier;
    final List<String> revoked = new ArrayList<>();

    static String id(int n) {
        return String.format("%064x", n);
    }

    static byte[] runtimePolicy(String path) {
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of(), HashAlg.SHA256);
        b.addFile(path, HashAlg.SHA256.digest(path.getBytes(StandardCharsets.UTF_8)));
        return new RuntimePolicyJson().write(b.build());
    }

    static Directive.PolicyPut put(long v, String name, byte[] content) {
        return new Directive.PolicyPut(v, name, PolicyStore.Kind.RUNTIME, content,
                HexFormat.of().formatHex(HashAlg.SHA256.digest(content)));
    }

    @BeforeEach
    void open() {
        Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
        db = Database.open(dir);
        devices = new DeviceStore(db, clock);
        devices.upsertEnrolled(DeviceRecord.enrolled(id(1), new byte[] {1}, null, "L-2", new byte[] {2},
                "spiffe://site.test/agent/tpm/" + id(1), T0, List.of("tpm:ek-hash:" + id(1))));
        policies = new PolicyStore(db, clock);
        audit = new AuditLog(db);
        bans = new CentralBans(db);
        applier = new DirectiveApplier(db, devices, policies, bans, audit, clock, (device, reason) -> revoked.add(device));
    }

    @AfterEach
    void close() {
        db.close();
    }

    private List<AuditEvent> audited(String action) {
        return audit.recent(100).stream().filter(e -> e.action().equals(action)).toList();
    }

    @Test
    void aCrashInsideTheTransactionAppliesNothingAndTheRetryAppliesOnce() {
        Directive ban = new Directive.Ban(1, id(1), "stolen");
        applier.beforeCommit(d -> {
            throw new IllegalStateException("power lost");
        });
        assertThatThrownBy(() -> applier.apply(List.of(ban))).hasMessageContaining("power lost");
        assertThat(applier.applied()).isZero();
        assertThat(devices.find(id(1)).orElseThrow().state()).isNotEqualTo(DeviceState.REVOKED);
        assertThat(bans.reason(id(1))).isEmpty();
        assertThat(audited("revoke")).isEmpty();
        assertThat(revoked).isEmpty();

        applier.beforeCommit(d -> {
        });
        assertThat(applier.apply(List.of(ban))).isEqualTo(1);
        assertThat(applier.applied()).isEqualTo(1);
        DeviceRecord d = devices.find(id(1)).orElseThrow();
        assertThat(d.state()).isEqualTo(DeviceState.REVOKED);
        assertThat(d.revokeReason()).contains("banned fleet-wide by central: stolen");
        assertThat(bans.reason(id(1))).hasValueSatisfying(r -> assertThat(r).contains("stolen").contains("directive 1"));
        assertThat(revoked).containsExactly(id(1));
        assertThat(audited("revoke")).hasSize(1);

        // The same directive again (an answer lost on the way, a second poll): nothing happens twice.
        assertThat(applier.apply(List.of(ban))).isZero();
        assertThat(revoked).containsExactly(id(1));
        assertThat(audited("revoke")).hasSize(1);

        // A ban of an EK never seen here: recorded for enrollment, nothing to revoke.
        assertThat(applier.apply(List.of(new Directive.Ban(2, id(9), "cloned")))).isEqualTo(1);
        assertThat(bans.reason(id(9))).isPresent();
        assertThat(revoked).containsExactly(id(1));
    }

    @Test
    void aCrashMidBatchKeepsWhatCommittedAndResumesAtTheNext() {
        byte[] p = runtimePolicy("/usr/bin/a");
        applier.beforeCommit(d -> {
            if (d.version() == 2) {
                throw new IllegalStateException("crash at 2");
            }
        });
        List<Directive> batch = List.of(put(1, "fleet", p), new Directive.PolicyAssign(2, "fleet", "line-1"),
                new Directive.PolicyDelete(3, "fleet"));
        assertThatThrownBy(() -> applier.apply(batch)).hasMessageContaining("crash at 2");
        assertThat(applier.applied()).isEqualTo(1);
        assertThat(policies.get("fleet")).isPresent();
        policies.label(id(1), "line-1");
        assertThat(policies.resolve(id(1), PolicyStore.Kind.RUNTIME)).isEmpty();

        applier.beforeCommit(d -> {
        });
        // The whole page comes again; 1 is skipped, 2 and 3 applied once.
        assertThat(applier.apply(List.of(put(1, "fleet", p), new Directive.PolicyAssign(2, "fleet", "line-1"))))
                .isEqualTo(1);
        assertThat(policies.resolve(id(1), PolicyStore.Kind.RUNTIME)).contains("fleet");
        assertThat(applier.apply(batch)).isEqualTo(1);
        assertThat(applier.applied()).isEqualTo(3);
        assertThat(policies.get("fleet")).isEmpty();
        assertThat(policies.resolve(id(1), PolicyStore.Kind.RUNTIME)).isEmpty();
    }

    @Test
    void thePolicyTheOperatorMadeHereIsKeptAndAudited() {
        byte[] ours = runtimePolicy("/opt/ours");
        byte[] theirs = runtimePolicy("/opt/central");
        // Central's first, then edited by the operator: it is the site's own from then on.
        applier.apply(List.of(put(1, "edited", theirs)));
        assertThat(policies.get("edited").orElseThrow().content()).isEqualTo(theirs);
        policies.put("edited", PolicyStore.Kind.RUNTIME, ours);
        policies.put("ops", PolicyStore.Kind.RUNTIME, ours);

        assertThat(applier.apply(List.of(put(2, "ops", theirs), put(3, "edited", theirs),
                new Directive.PolicyAssign(4, "ops", "line-1"), new Directive.PolicyDelete(5, "edited")))).isEqualTo(4);
        assertThat(applier.applied()).isEqualTo(5);
        assertThat(policies.get("ops").orElseThrow().content()).isEqualTo(ours);
        assertThat(policies.get("edited").orElseThrow().content()).isEqualTo(ours);
        policies.label(id(1), "line-1");
        assertThat(policies.resolve(id(1), PolicyStore.Kind.RUNTIME)).isEmpty();
        List<AuditEvent> kept = audited(DirectiveApplier.KEPT_LOCAL);
        assertThat(kept).extracting(AuditEvent::detail).containsExactlyInAnyOrder("version 2", "version 3", "version 4",
                "version 5");
        assertThat(kept).allSatisfy(e -> assertThat(e.lasting()).isTrue());

        assertThat(policies.list()).filteredOn(p -> p.name().equals("ops")).singleElement()
                .satisfies(p -> assertThat(p.source()).isEqualTo("local"));
        // Central's own policy of another name is applied as usual, and a later directive for it too.
        assertThat(applier.apply(List.of(put(6, "fleet", theirs), put(7, "fleet", ours)))).isEqualTo(2);
        assertThat(policies.get("fleet").orElseThrow().content()).isEqualTo(ours);
        assertThat(policies.list()).filteredOn(p -> p.name().equals("fleet")).singleElement()
                .satisfies(p -> assertThat(p.source()).isEqualTo("central"))
                .satisfies(p -> assertThat(p.centralVersion()).isEqualTo(7L));
    }
}
