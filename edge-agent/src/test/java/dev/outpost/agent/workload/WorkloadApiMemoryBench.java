package dev.outpost.agent.workload;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.ProcessRunner;

/**
 * The agent's memory with 100 workloads connected (BENCHMARKS.md): the Workload API in a JVM of its own
 * ({@link WorkloadApiBenchServer}, JVM options from -Doutpost.bench.serverOpts), 100 java-spiffe X509 sources
 * (100 connections, 100 FetchX509SVID streams) in another. Prints BENCH lines; asserts nothing about the numbers.
 */
@EnabledIfSystemProperty(named = "outpost.bench", matches = "true")
class WorkloadApiMemoryBench {
    @TempDir
    Path tmp;

    @Test
    void memoryWithAHundredWorkloadsConnected() throws Exception {
        int clients = Integer.getInteger("outpost.bench.clients", 100);
        Path socket = tmp.resolve("workload.sock");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        List<String> server = new ArrayList<>(List.of(java));
        for (String o : System.getProperty("outpost.bench.serverOpts", "").split(" ")) {
            if (!o.isBlank()) {
                server.add(o);
            }
        }
        server.addAll(List.of("-cp", cp, WorkloadApiBenchServer.class.getName(), socket.toString(),
                Integer.toString(clients)));
        Process s = new ProcessBuilder(server).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Process c = null;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            Writer in = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8);
            expect(out, "ready");
            say(in, "measure started, no workloads");
            System.out.println(expect(out, "BENCH"));
            c = new ProcessBuilder(java, "-cp", cp, WorkloadClientMain.class.getName(), "unix:" + socket,
                    Integer.toString(clients)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader cout = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
            System.out.println(expect(cout, "open"));
            say(in, "measure " + clients + " streams (one entry)");
            System.out.println(expect(out, "BENCH"));
            say(in, "hold");
            expect(out, "held");
            say(in, "measure " + clients + " streams + " + clients + " more entries' SVIDs and keys held");
            System.out.println(expect(out, "BENCH"));
            c.getOutputStream().close();
            c.waitFor(30, TimeUnit.SECONDS);
            say(in, "quit");
            s.waitFor(30, TimeUnit.SECONDS);
        } finally {
            if (c != null) {
                ProcessRunner.terminate(c);
            }
            ProcessRunner.terminate(s);
        }
    }

    private static void say(Writer w, String line) throws java.io.IOException {
        w.write(line + "\n");
        w.flush();
    }

    private static String expect(BufferedReader r, String prefix) throws java.io.IOException {
        for (String line; (line = r.readLine()) != null; ) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new AssertionError("the process ended before printing " + prefix);
    }
}
