/** JMH benchmarks; run with {@code java -jar bench/target/benchmarks.jar}. See BENCHMARKS.md. */
package dev.outpost.bench;
