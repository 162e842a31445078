package dev.outpost.agent.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Workload attestation: from the kernel's peer credentials of a connection to the selectors the caller holds
 * ({@code unix:uid/user/gid/group/path/sha256}, {@code ima:verified}). The process is read through {@code /proc}; its
 * start time is compared with the one read when the connection was accepted, before and after the binary is read, so
 * a caller that exited and whose pid went to another process is refused rather than attested as the newcomer.
 * Reading another user's {@code /proc/<pid>/exe} needs root (or CAP_SYS_PTRACE): without it the path and digest
 * selectors are simply absent, and entries that need them do not match.
 */
public final class WorkloadAttestor {
    private static final String DELETED = " (deleted)";
    private final ProcStat procStat;
    private final UnixNames names;
    private final BinaryDigests digests;
    private final ImaMeasurements ima;

    /** What attestation found: the selectors, and the binary's path and digest for an {@code ima:verified} request. */
    public record Workload(Set<String> selectors, String path, String sha256, boolean imaVerified) {
    }

    /** The caller cannot be attested (gone, replaced); the message says why. */
    public static final class AttestationException extends Exception {
        private static final long serialVersionUID = 1L;

        AttestationException(String message) {
            super(message);
        }
    }

    /** @param imaRescan how often at most the IMA list is read again for a measurement not found yet */
    public WorkloadAttestor(Path proc, Path passwd, Path group, Path imaList, long maxBinaryBytes,
            java.time.Duration imaRescan) {
        this(new ProcStat(proc), new UnixNames(passwd, group), new BinaryDigests(maxBinaryBytes),
                new ImaMeasurements(imaList, imaRescan));
    }

    WorkloadAttestor(ProcStat procStat, UnixNames names, BinaryDigests digests, ImaMeasurements ima) {
        this.procStat = procStat;
        this.names = names;
        this.digests = digests;
        this.ima = ima;
    }

    ProcStat procStat() {
        return procStat;
    }

    /** Attests with the {@code ima:verified} check (reading the IMA list costs: only when an entry needs it). */
    public Workload attest(PeerCredentials peer) throws AttestationException {
        return attest(peer, true);
    }

    public Workload attest(PeerCredentials peer, boolean checkIma) throws AttestationException {
        sameProcess(peer);
        Set<String> s = new TreeSet<>();
        s.add("unix:uid:" + peer.uid());
        s.add("unix:gid:" + peer.gid());
        Optional.ofNullable(names.user(peer.uid())).ifPresent(n -> s.add("unix:user:" + n));
        Optional.ofNullable(names.group(peer.gid())).ifPresent(n -> s.add("unix:group:" + n));
        Path exe = procStat.proc().resolve(Integer.toString(peer.pid())).resolve("exe");
        String path = null;
        String sha = null;
        try {
            String link = Files.readSymbolicLink(exe).toString();
            // A binary deleted or replaced since it started has no path that names it any more.
            if (!link.endsWith(DELETED)) {
                path = link;
                sha = digests.sha256(exe).orElse(null);
            }
        } catch (IOException | SecurityException e) {
            // not ours to read (no privilege) or gone: no path selectors; sameProcess below says which
        }
        sameProcess(peer);
        boolean verified = false;
        if (path != null) {
            s.add("unix:path:" + path);
            if (sha != null) {
                s.add("unix:sha256:" + sha);
                verified = checkIma && ima.measured(path, sha);
                if (verified) {
                    s.add("ima:verified");
                }
            }
        }
        return new Workload(Set.copyOf(s), path, sha, verified);
    }

    private void sameProcess(PeerCredentials peer) throws AttestationException {
        if (peer.startTime() < 0) {
            throw new AttestationException("caller process " + peer.pid() + " was gone when it connected");
        }
        if (procStat.startTime(peer.pid()) != peer.startTime()) {
            throw new AttestationException("caller process " + peer.pid() + " has exited (its pid is gone or reused)");
        }
    }
}
