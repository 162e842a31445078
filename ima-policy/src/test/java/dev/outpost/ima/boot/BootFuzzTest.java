package dev.outpost.ima.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.outpost.ima.policy.PolicyException;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogException;

/** Mutated policies and logs end in a clean error or a verdict, never in another exception. */
class BootFuzzTest {
    private static final int ROUNDS = 3000;

    private static byte[] mutate(byte[] in, Random r) {
        byte[] b = in.clone();
        int edits = 1 + r.nextInt(4);
        for (int i = 0; i < edits; i++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(3)) {
                case 0 -> b[at] = (byte) r.nextInt(256);
                case 1 -> b[at] = (byte) "{}[]\",:0a-".charAt(r.nextInt(10));
                default -> b = java.util.Arrays.copyOf(b, at);
            }
            if (b.length == 0) {
                break;
            }
        }
        return b;
    }

    @Test
    void mutatedPoliciesParseOrFailCleanly() {
        BootLogFixture f = new BootLogFixture();
        byte[] good = new BootPolicyJson().write(BootPolicyGenerator.generate(f.log(), true).policy());
        Random r = new Random(42);
        int refused = 0;
        for (int i = 0; i < ROUNDS; i++) {
            byte[] m = mutate(good, r);
            try {
                BootPolicy p = new BootPolicyJson().read(m);
                BootPolicyEvaluator.evaluate(p, f.log(), null);
            } catch (PolicyException e) {
                assertThat(e.getMessage()).startsWith("$");
                refused++;
            }
        }
        assertThat(refused).isPositive();
    }

    @Test
    void mutatedLogsGetAVerdict() {
        BootLogFixture f = new BootLogFixture();
        byte[] good = f.bytes();
        BootPolicy p = BootPolicyGenerator.generate(f.log(), true).policy();
        Random r = new Random(7);
        int judged = 0;
        for (int i = 0; i < ROUNDS; i++) {
            EventLog log;
            try {
                log = EventLog.parse(mutate(good, r));
            } catch (EventLogException e) {
                continue;
            }
            BootPolicyResult offline = BootPolicyEvaluator.evaluate(p, log, null);
            BootPolicyEvaluator.evaluate(p, log, BootPolicyEvaluatorTest.quoteOf(log));
            BootPolicyGenerator.generate(log, true);
            judged += offline.passed() ? 0 : 1;
        }
        assertThat(judged).isPositive();
    }
}
