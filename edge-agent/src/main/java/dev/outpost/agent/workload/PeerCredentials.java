package dev.outpost.agent.workload;

/**
 * Who is at the other end of a Workload API connection, as the kernel said when the connection was accepted
 * ({@code SO_PEERCRED}), plus the process's start time read at that moment so a pid reused later is noticed.
 *
 * @param startTime field 22 of {@code /proc/<pid>/stat} (clock ticks since boot) when the connection was accepted,
 *                  or -1 when the process was already gone (every call on that connection is then refused)
 */
public record PeerCredentials(int pid, int uid, int gid, long startTime) {
}
