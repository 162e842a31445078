/**
 * The site-scale load generator: an appliance in this JVM and simulated devices that speak the real protocol
 * with software TPMs, so enrollment, quote verification, IMA replay and the store carry real work.
 *
 * <p>Run (after {@code ./mvnw -B -q package -DskipTests -pl bench -am}):
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.outpost.bench.load.LoadGenerator --scenario enroll-storm --devices 200
 * java -cp bench/target/benchmarks.jar dev.outpost.bench.load.LoadGenerator --scenario steady --devices 200 \
 *     --period 5 --duration 30 --entries 10 --bad 0.1
 * </pre>
 * The report goes to stdout and {@code <out>/report.txt}; {@code <out>/load.png} and {@code enroll.png} plot
 * throughput and latency per second. Exit code 1 when a verdict or a final device state is not the expected one.
 *
 * <p>Limits of the first version, on the project's 2-core box:
 * <ul>
 * <li>Each device holds a Paho v5 client with about 3.6 threads (sender, receiver, callback, ping); 1,000 devices
 * ran with ~3,700 threads and ~410 MiB heap. Beyond a few thousand, thread stacks and scheduling dominate: a
 * shared Paho executor, or a Netty-based client, is the next step for 10k.</li>
 * <li>Device setup (RSA 2048 EK generation) costs ~65 ms of CPU per device and is done before measuring.</li>
 * <li>The generator shares the JVM and the cores with the appliance; the report separates the appliance's threads
 * (Vert.x, H2) from the rest. Whole-JVM CPU includes JIT compilation, large in short runs.</li>
 * <li>The runtime policy goes through the admin API, which accepts 64 KiB bodies: about 400 files.</li>
 * </ul>
 */
package dev.outpost.bench.load;
