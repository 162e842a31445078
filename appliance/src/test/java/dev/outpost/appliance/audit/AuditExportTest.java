package dev.outpost.appliance.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;

/** The export reads one snapshot: what is written meanwhile (a running appliance) is not half in it. */
class AuditExportTest {
    private static final Instant T0 = Instant.parse("2026-12-07T00:00:00Z");

    @Test
    void recordsWrittenDuringTheExportAreNotInIt(@TempDir Path dir) throws Exception {
        try (Database db = Database.open(dir)) {
            AuditLog audit = new AuditLog(db);
            for (int i = 0; i < 5; i++) {
                audit.record(AuditEvent.of(T0.plusSeconds(i), null, "allow", AuditEvent.Decision.INFO, "before " + i,
                        "operator"));
            }
            StringWriter sink = new StringWriter();
            // At the export's first line, another writer appends to both chains (its own connection and transaction).
            Writer meddling = new Writer() {
                private boolean done;

                @Override
                public void write(char[] b, int off, int len) throws IOException {
                    if (!done) {
                        done = true;
                        audit.record(AuditEvent.of(T0.plusSeconds(10), null, "allow", AuditEvent.Decision.INFO,
                                "during", "operator"));
                    }
                    sink.write(b, off, len);
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            };
            AuditExport.write(db, 0, meddling);
            String[] lines = sink.toString().split("\n");
            assertThat(Arrays.stream(lines).filter(l -> l.contains("\"type\":\"record\""))).hasSize(5)
                    .noneMatch(l -> l.contains("during"));
            StringWriter after = new StringWriter();
            AuditExport.write(db, 0, after);
            assertThat(after.toString()).contains("\"reason\":\"during\"");
            assertThatThrownBy(() -> AuditExport.write(db, -1, new StringWriter()))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
