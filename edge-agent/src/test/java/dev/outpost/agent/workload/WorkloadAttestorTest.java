package dev.outpost.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.agent.workload.WorkloadAttestor.AttestationException;
import dev.outpost.agent.workload.WorkloadAttestor.Workload;

/** Workload attestation of real processes through the real /proc; users, groups and the IMA list from files. */
class WorkloadAttestorTest {
    @TempDir
    Path dir;
    Path passwd;
    Path group;
    Path ima;
    int pid;
    int uid;
    int gid;
    Path exe;
    String sha;

    @BeforeEach
    void setUp() throws Exception {
        passwd = Files.writeString(dir.resolve("passwd"), "# comment\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\n"
                + "broken line\nalias:x:0:0::/:/bin/sh\n");
        group = Files.writeString(dir.resolve("group"), "root:x:0:\nstaff:x:50:alice\n");
        ima = dir.resolve("ima");
        pid = (int) ProcessHandle.current().pid();
        uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        gid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        exe = Path.of("/proc/self/exe").toRealPath();
        sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(exe)));
    }

    private WorkloadAttestor attestor(long maxBinary) {
        return new WorkloadAttestor(Path.of("/proc"), passwd, group, ima, maxBinary, java.time.Duration.ZERO);
    }

    private PeerCredentials self(WorkloadAttestor a) {
        return new PeerCredentials(pid, uid, gid, a.procStat().startTime(pid));
    }

    @Test
    void aLiveProcessGetsItsUnixSelectors() throws Exception {
        WorkloadAttestor a = attestor(1L << 30);
        Workload w = a.attest(self(a));
        assertThat(w.selectors()).contains("unix:uid:" + uid, "unix:gid:" + gid, "unix:path:" + exe, "unix:sha256:" + sha)
                .doesNotContain("ima:verified");
        if (uid == 0) {
            assertThat(w.selectors()).contains("unix:user:root").doesNotContain("unix:user:alias");
        }
        if (gid == 0) {
            assertThat(w.selectors()).contains("unix:group:root");
        }
        assertThat(w.path()).isEqualTo(exe.toString());
        assertThat(w.sha256()).isEqualTo(sha);
    }

    @Test
    void imaVerifiedOnlyWhenTheDevicesListMeasuredThatBinaryWithThatDigest() throws Exception {
        String other = "ab".repeat(32);
        Files.write(ima, new ImaListWriter().legacy("/boot_aggregate").imaNgSha256(other, exe.toString())
                .imaNg("sha1", new byte[20], exe.toString()).bytes());
        WorkloadAttestor a = attestor(1L << 30);
        assertThat(a.attest(self(a)).imaVerified()).isFalse();
        // The kernel appends: a new measurement of the binary with its real digest makes it verified.
        Files.write(ima, new ImaListWriter().imaNgSha256(sha, exe.toString()).bytes(), java.nio.file.StandardOpenOption.APPEND);
        Workload w = a.attest(self(a));
        assertThat(w.imaVerified()).isTrue();
        assertThat(w.selectors()).contains("ima:verified");
    }

    @Test
    void aMeasurementNotFoundIsLookedForAgainOnlyAfterTheRescanInterval() throws Exception {
        Files.write(ima, new ImaListWriter().imaNgSha256("cd".repeat(32), exe.toString()).bytes());
        WorkloadAttestor a = new WorkloadAttestor(Path.of("/proc"), passwd, group, ima, 1L << 30,
                java.time.Duration.ofHours(1));
        assertThat(a.attest(self(a)).imaVerified()).isFalse();
        Files.write(ima, new ImaListWriter().imaNgSha256(sha, exe.toString()).bytes(), java.nio.file.StandardOpenOption.APPEND);
        // Not read again within the hour: the caller stays unverified until then (it costs a whole list read).
        assertThat(a.attest(self(a)).imaVerified()).isFalse();
        assertThat(a.attest(self(a), false).imaVerified()).isFalse();
    }

    @Test
    void aCorruptImaListVouchesForNothing() throws Exception {
        byte[] list = new ImaListWriter().imaNgSha256(sha, exe.toString()).bytes();
        list[24] = 99; // template name length
        Files.write(ima, list);
        WorkloadAttestor a = attestor(1L << 30);
        assertThat(a.attest(self(a)).selectors()).doesNotContain("ima:verified");
    }

    @Test
    void aPidThatNoLongerNamesTheCallerIsRefused() throws Exception {
        WorkloadAttestor a = attestor(1L << 30);
        PeerCredentials me = self(a);
        assertThatThrownBy(() -> a.attest(new PeerCredentials(pid, uid, gid, me.startTime() + 1)))
                .isInstanceOf(AttestationException.class).hasMessageContaining("exited");
        Process p = new ProcessBuilder("true").start();
        int gone = (int) p.pid();
        long start = a.procStat().startTime(gone);
        p.waitFor();
        // waitFor has reaped it: its /proc entry is gone (or, later, another process's)
        assertThatThrownBy(() -> a.attest(new PeerCredentials(gone, uid, gid, start)))
                .isInstanceOf(AttestationException.class);
        assertThatThrownBy(() -> a.attest(new PeerCredentials(pid, uid, gid, -1)))
                .isInstanceOf(AttestationException.class).hasMessageContaining("gone when it connected");
    }

    @Test
    void bigBinariesAreNotHashedAndTheDigestIsCachedPerFileVersion() throws Exception {
        WorkloadAttestor small = attestor(16);
        Workload w = small.attest(self(small));
        assertThat(w.selectors()).contains("unix:path:" + exe).noneMatch(s -> s.startsWith("unix:sha256:"));

        BinaryDigests d = new BinaryDigests(1 << 20);
        Path f = Files.writeString(dir.resolve("bin"), "first");
        String one = d.sha256(f).orElseThrow();
        assertThat(d.sha256(f)).contains(one);
        assertThat(d.hashed()).isEqualTo(1);
        Files.writeString(f, "second, longer");
        assertThat(d.sha256(f).orElseThrow()).isNotEqualTo(one);
        assertThat(d.hashed()).isEqualTo(2);
    }

    @Test
    void procStatStartTimeSurvivesOddCommandNames() {
        String stat = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assertThat(ProcStat.parse(stat)).isEqualTo(987654L);
        assertThat(ProcStat.parse("garbage")).isEqualTo(-1L);
    }
}
