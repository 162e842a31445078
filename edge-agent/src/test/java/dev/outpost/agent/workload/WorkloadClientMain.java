package dev.outpost.agent.workload;

import java.util.ArrayList;
import java.util.List;

import io.spiffe.workloadapi.DefaultX509Source;

/**
 * A workload in a process of its own (run under another uid by the tests): java-spiffe's X509 source against the
 * agent's socket. {@code ADDRESS fetch} asks once with the client; {@code ADDRESS} prints the SPIFFE ID it got or the error; {@code ADDRESS N} opens N sources (N
 * streams), prints "open" and holds them until stdin closes (for the memory measurement).
 */
public final class WorkloadClientMain {
    private WorkloadClientMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 1 && args[1].equals("fetch")) {
            try (var client = io.spiffe.workloadapi.DefaultWorkloadApiClient.newClient(
                    io.spiffe.workloadapi.DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(args[0]).build())) {
                System.out.println("SPIFFE_ID=" + client.fetchX509Context().getDefaultSvid().getSpiffeId());
            } catch (Exception e) {
                System.out.println("ERROR=" + e + (e.getCause() == null ? "" : " / " + e.getCause()));
            }
            System.exit(0);
        }
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        List<DefaultX509Source> sources = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sources.add(DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                        .spiffeSocketPath(args[0]).initTimeout(java.time.Duration.ofSeconds(20)).build()));
            }
            System.out.println("SPIFFE_ID=" + sources.get(0).getX509Svid().getSpiffeId());
        } catch (Exception e) {
            System.out.println("ERROR=" + e + (e.getCause() == null ? "" : " / " + e.getCause()));
        }
        if (n > 1) {
            System.out.println("open " + sources.size());
            System.out.flush();
            System.in.read();
        }
        System.out.flush();
        sources.forEach(DefaultX509Source::close);
        System.exit(0);
    }
}
