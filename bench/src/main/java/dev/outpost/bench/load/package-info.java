/**
 * The site-scale load generator: the appliance in its own JVM (and, in broker mode, a real Mosquitto), and
 * simulated devices that speak the real protocol with software TPMs, so enrollment, quote verification, IMA
 * replay and the store carry real work, and the appliance's CPU and memory can be read apart from the generator's.
 *
 * <p>Run (after {@code ./mvnw -B -q package -DskipTests -pl bench -am}):
 * <pre>
 * java -Xmx6g -cp bench/target/benchmarks.jar dev.outpost.bench.load.LoadGenerator --scenario steady \
 *     --devices 10000 --threads 128 --period 10 --duration 120 --entries 20 --bad 0.01 --ek ecc
 * </pre>
 * Scenarios {@code steady}, {@code enroll-storm}, {@code reconnect-storm}; {@code --broker mosquitto} puts the
 * shipped Mosquitto configuration between devices and appliance. The report goes to stdout and
 * {@code <out>/report.txt}; {@code <out>/load.png} and {@code enroll.png} plot throughput and latency per second.
 * Exit code 1 when a verdict or a final device state is not the expected one. Figures: BENCHMARKS.md.
 *
 * <p>Limits:
 * <ul>
 * <li>Generator and appliance share the box's cores: at ~1,000 attestations a second the generator takes about a
 * third of the CPU.</li>
 * <li>Device setup with RSA 2048 EKs costs ~65 ms of CPU per device (done before measuring); {@code --ek ecc}
 * makes 10,000 devices in seconds.</li>
 * <li>The runtime policy goes through the admin API, which accepts 64 KiB bodies: about 400 files.</li>
 * <li>Devices keep their IMA lists in memory: give the generator a few GB for 10,000 devices and long runs.</li>
 * </ul>
 */
package dev.outpost.bench.load;
