package dev.outpost.appliance.cli;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.outpost.ima.boot.BootPolicyLimits;
import dev.outpost.ima.boot.GeneratedPolicy;
import dev.outpost.ima.boot.KeylimeRefState;
import dev.outpost.ima.policy.LegacyAllowlist;
import dev.outpost.ima.policy.PolicyLimits;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.RuntimePolicyJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a Keylime legacy allow-list (and exclude-list) to a runtime policy, or a Keylime"
                + " measured-boot reference state to a measured-boot policy.")
final class PolicyConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--allowlist", description = "'<digest> <path>' lines, %%keyring:<name> for keys")
    Path allowlist;

    @Option(names = "--excludelist", description = "One regex a line, # comments")
    Path excludelist;

    @Option(names = "--keylime-refstate", description = "Keylime measured-boot reference state JSON"
            + " (keylime-policy create measured-boot)")
    Path keylimeRefstate;

    @Option(names = "--out", required = true, description = "Runtime policy JSON to write")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (keylimeRefstate != null) {
            if (allowlist != null || excludelist != null) {
                throw new IllegalArgumentException("--keylime-refstate cannot be combined with --allowlist or"
                        + " --excludelist");
            }
            return convertRefState();
        }
        if (allowlist == null) {
            throw new IllegalArgumentException("one of --allowlist or --keylime-refstate is required");
        }
        RuntimePolicy p;
        try (Reader a = Files.newBufferedReader(allowlist, StandardCharsets.UTF_8);
                Reader e = excludelist == null ? null : Files.newBufferedReader(excludelist, StandardCharsets.UTF_8)) {
            p = LegacyAllowlist.convert(a, e, PolicyLimits.DEFAULT);
        }
        PolicyFiles.write(p, out);
        spec.commandLine().getOut().printf("wrote %s: %d paths, %d keyrings, %d excludes%n", out, p.digests().size(),
                p.keyrings().size(), p.excludes().size());
        spec.commandLine().getOut().flush();
        return 0;
    }

    private int convertRefState() throws Exception {
        Path in = VerifyBootCommand.existing(keylimeRefstate);
        if (Files.size(in) > BootPolicyLimits.DEFAULT.maxBytes()) {
            throw new IllegalArgumentException(in + " is larger than " + BootPolicyLimits.DEFAULT.maxBytes() + " bytes");
        }
        GeneratedPolicy g = KeylimeRefState.convert(Files.readAllBytes(in), BootPolicyLimits.DEFAULT);
        BootPolicyFiles.write(g.policy(), out);
        g.warnings().forEach(w -> spec.commandLine().getErr().println("warning: " + w));
        spec.commandLine().getErr().flush();
        spec.commandLine().getOut().printf("wrote %s: measured-boot policy, %d event digest rules%n", out,
                g.policy().eventDigests().size());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
