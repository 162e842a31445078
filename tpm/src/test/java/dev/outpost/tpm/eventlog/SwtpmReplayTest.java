package dev.outpost.tpm.eventlog;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.pcr.Pcrs;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;

/** A log we write and a real TPM we extend with its events agree on every PCR of both banks. */
@ExtendWith(SwtpmExtension.class)
class SwtpmReplayTest {

    @Test
    void replayEqualsTheTpmAfterExtendingItWithTheLog(Swtpm swtpm) throws Exception {
        EventLogWriter w = EventLogWriter.cryptoAgile(HashAlg.SHA1, HashAlg.SHA256);
        w.event(0, EventType.EV_S_CRTM_VERSION, utf16("1.0"));
        w.event(0, EventType.EV_POST_CODE, "POST CODE".getBytes(StandardCharsets.US_ASCII));
        for (int pcr = 0; pcr <= 7; pcr++) {
            w.event(pcr, EventType.EV_SEPARATOR, new byte[4]);
        }
        w.event(4, EventType.EV_EFI_BOOT_SERVICES_APPLICATION, "shimx64.efi".getBytes(StandardCharsets.US_ASCII));
        w.event(8, EventType.EV_IPL, "kernel_cmdline: root=/dev/sda1 ro".getBytes(StandardCharsets.US_ASCII));
        w.event(9, EventType.EV_IPL, "/boot/initrd.img".getBytes(StandardCharsets.US_ASCII));
        EventLog log = EventLog.parse(w.toBytes());

        Set<Integer> touched = new TreeSet<>();
        try (Tpm2 tpm = Tpm2.open(swtpm.uri())) {
            for (Event e : log.events()) {
                if (e.rawType() == EventType.EV_NO_ACTION.value()) {
                    continue;
                }
                Map<HashAlg, byte[]> d = new LinkedHashMap<>();
                d.put(HashAlg.SHA1, e.digest(HashAlg.SHA1).orElseThrow());
                d.put(HashAlg.SHA256, e.digest(HashAlg.SHA256).orElseThrow());
                Pcrs.extend(tpm, e.pcr(), d);
                touched.add(e.pcr());
            }
            Map<HashAlg, Set<Integer>> sel = new LinkedHashMap<>();
            sel.put(HashAlg.SHA1, touched);
            sel.put(HashAlg.SHA256, touched);
            PcrValues fromTpm = Pcrs.read(tpm, PcrSelection.of(sel));
            ReplayResult replay = PcrReplay.replay(log);
            for (HashAlg bank : new HashAlg[] {HashAlg.SHA1, HashAlg.SHA256}) {
                assertThat(replay.pcrs(bank).keySet()).isEqualTo(touched);
                for (int pcr : touched) {
                    assertThat(replay.pcrs(bank).get(pcr)).as("%s PCR %d", bank, pcr)
                            .isEqualTo(fromTpm.get(bank, pcr).orElseThrow());
                }
            }
        }
    }

    private static byte[] utf16(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_16LE);
    }
}
