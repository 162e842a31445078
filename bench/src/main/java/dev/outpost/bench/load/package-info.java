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
 * Scenarios {@code steady}, {@code enroll-storm}, {@code reconnect-storm}, {@code reboot-storm},
 * {@code bundle-change}; {@code --broker mosquitto} puts the shipped Mosquitto configuration between devices and
 * appliance. The report goes to stdout and {@code <out>/report.txt}; {@code <out>/load.png} and {@code enroll.png}
 * plot throughput and latency per second. Exit code 1 when a verdict or a final device state is not the expected
 * one. Figures: BENCHMARKS.md.
 *
 * <p>Shape: {@link dev.outpost.bench.load.LoadGenerator} is the run every scenario shares (broker and appliance
 * processes, devices made, enrolled and attested once, final states checked, report); each scenario is one class
 * behind {@code Scenario} ({@code SteadyScenario}, {@code EnrollStormScenario}, {@code ReconnectStormScenario},
 * {@code RebootStormScenario}, {@code BundleChangeScenario}) with what happens before its measured phase and the
 * phase itself; {@code SiteRun} holds what they share (workers, statistics, attest-and-check), {@code Phase} the
 * CPU and memory of both processes over a phase, {@code SiteBroker} the Mosquitto of {@code --broker mosquitto}.
 *
 * <p>Memory: a device's IMA list is one int per entry (which file of the site's {@code FilePool}; the few entries
 * outside the pool keep their bytes) and its binary slice is made when the appliance asks for it, from entries the
 * pool encodes once. The boot log is the pool's, shared. What a device holds is ~60 KiB of heap (keys, TLS context,
 * MQTT session, the list at 5,000 entries): ~130 MiB live for 2,000 devices after a 5,000-entry reboot storm, so
 * 10,000 × 5,000 needs well under 1 GiB live (give the JVM 2 GB for the uploads in flight).
 *
 * <p>Limits:
 * <ul>
 * <li>Generator and appliance share the box's cores: at ~1,000 attestations a second the generator takes about a
 * third of the CPU.</li>
 * <li>Device setup with RSA 2048 EKs costs ~65 ms of CPU per device (done before measuring); {@code --ek ecc}
 * makes 10,000 devices in seconds.</li>
 * <li>The runtime policy goes through the admin API, which accepts 64 KiB bodies: about 400 files.</li>
 * <li>A steady run's lists grow by {@code --entries} per attestation (4 bytes an entry), so long runs grow slowly.</li>
 * </ul>
 */
package dev.outpost.bench.load;
