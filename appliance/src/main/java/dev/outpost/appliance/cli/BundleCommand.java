package dev.outpost.appliance.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bundle", mixinStandardHelpOptions = true, description = "The site trust bundle.",
        subcommands = {BundleCommand.Show.class})
final class BundleCommand {
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print the bundle as PEM or SPIFFE JWKS.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Option(names = "--format", defaultValue = "pem", description = "pem or spiffe (default: ${DEFAULT-VALUE})")
        String format;

        @Override
        public Integer call() throws Exception {
            if (!format.equals("pem") && !format.equals("spiffe")) {
                throw new IllegalArgumentException("--format must be pem or spiffe");
            }
            CliSupport.print(spec, admin.call(admin.client().get("/v1/bundle?format=" + format)));
            return 0;
        }
    }
}
