package dev.outpost.appliance.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Through main's path a named command is built alone (its branch of the tree, not every command): it must answer
 * exactly as it does in the whole tree, and help or an unknown name still see every command.
 */
class CliBranchTest {

    @Test
    void aNamedCommandAnswersAsInTheWholeTree() {
        for (List<String> args : List.of(List.of("device", "--help"), List.of("audit", "export", "--help"),
                List.of("status", "--help"), List.of("ca", "show", "--help"), List.of("device", "show"),
                List.of("policy", "nosuch"))) {
            String[] a = args.toArray(String[]::new);
            ImaCliTest.Run alone = ImaCliTest.run(a);
            ImaCliTest.Run tree = ImaCliTest.runInTree(a);
            assertThat(alone).as(String.join(" ", args)).isEqualTo(tree);
        }
    }

    @Test
    void helpAndUnknownNamesSeeEveryCommand() {
        ImaCliTest.Run help = ImaCliTest.run("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("run", "reset", "backup", "restore", "device", "audit", "ca", "bundle",
                "verify", "tpm", "eventlog", "policy", "status", "entry");
        ImaCliTest.Run unknown = ImaCliTest.run("devise", "list");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("Unmatched argument").contains("device");
        assertThat(unknown).isEqualTo(ImaCliTest.runInTree("devise", "list"));
    }
}
