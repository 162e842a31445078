package dev.outpost.ima.boot;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventData;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;

/**
 * Records a known-good log as a policy that this log passes: its Secure Boot state, its PK/KEK/db (as the only
 * allowed entries) and dbx (as required entries), the digests of its boot applications and its kernel command
 * lines as exact regexes. The operator widens it (more kernels, regexes) by editing the JSON.
 */
public final class BootPolicyGenerator {
    private BootPolicyGenerator() {
    }

    /** @param pinPcrs also pin the replayed values of PCRs 0..9 (brittle: any firmware update changes them) */
    public static GeneratedPolicy generate(EventLog log, boolean pinPcrs) {
        List<String> warnings = new ArrayList<>();
        ReplayResult replay = PcrReplay.replay(log);
        CheckContext all = new CheckContext(log, LogTrust.offline(replay), new ArrayList<>());

        BootPolicy.SecureBoot sb = SecureBootCheck.enabledIn(log) ? BootPolicy.SecureBoot.ENABLED
                : BootPolicy.SecureBoot.ANY;
        if (sb == BootPolicy.SecureBoot.ANY) {
            warnings.add("Secure Boot is not enabled in this log (or not measured once): the policy does not"
                    + " require it");
        }
        Map<String, SignatureDatabase> dbs = new TreeMap<>();
        for (String name : BootPolicy.DATABASES) {
            List<BootFailure> problems = new ArrayList<>();
            CheckContext c = new CheckContext(log, all.trust, problems);
            EventData.EfiVariable v = UefiVariables.single(c, name, UefiVariables.find(c, name), "-", "-", "-");
            if (v == null) {
                warnings.add(name + " is not checked: " + problems.get(0).message());
                continue;
            }
            List<AllowedSignature> entries = new ArrayList<>(new LinkedHashSet<>(
                    v.signatures().stream().map(AllowedSignature::of).toList()));
            dbs.put(name, new SignatureDatabase(name.equals("dbx") ? SignatureDatabase.Mode.SUPERSET
                    : SignatureDatabase.Mode.SUBSET, entries));
        }

        List<AllowedApplication> apps = new ArrayList<>();
        for (Event e : ApplicationCheck.applications(all)) {
            Map<HashAlg, byte[]> d = new EnumMap<>(HashAlg.class);
            e.digests().forEach(x -> x.alg().ifPresent(a -> d.put(a, x.value())));
            if (d.isEmpty()) {
                continue;
            }
            String comment = e.decoded() instanceof EventData.ImageLoad i && !i.path().isEmpty() ? i.path()
                    : "event " + e.index();
            AllowedApplication a = new AllowedApplication(comment, d);
            if (apps.stream().noneMatch(x -> x.digests().keySet().equals(d.keySet()) && x.matches(e, d.keySet()))) {
                apps.add(a);
            }
        }
        if (apps.isEmpty()) {
            warnings.add("no boot application in PCR 4: applications are not checked");
        }

        Set<CmdlineRule> lines = new LinkedHashSet<>();
        for (KernelCmdlines.Cmdline l : KernelCmdlines.all(log)) {
            lines.add(CmdlineRule.exactly(l.line()));
        }
        if (lines.isEmpty()) {
            warnings.add("no kernel command line in the log: command lines are not checked");
        }

        Map<HashAlg, SortedMap<Integer, byte[]>> pcrs = new EnumMap<>(HashAlg.class);
        if (pinPcrs) {
            for (HashAlg bank : replay.banks()) {
                SortedMap<Integer, byte[]> m = new TreeMap<>(replay.pcrs(bank).headMap(LogTrust.LAST_BOOT_PCR + 1));
                if (!m.isEmpty()) {
                    pcrs.put(bank, m);
                }
            }
        }
        BootPolicy p = new BootPolicy(sb, dbs.get("PK"), dbs.get("KEK"), dbs.get("db"), dbs.get("dbx"),
                apps.isEmpty() ? null : apps, lines.isEmpty() ? null : List.copyOf(lines), List.of(), pcrs);
        return new GeneratedPolicy(p, warnings);
    }

}
