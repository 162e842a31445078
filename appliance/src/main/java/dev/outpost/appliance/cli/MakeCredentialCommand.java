package dev.outpost.appliance.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.EkParameters;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.wire.TpmPublic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "make-credential", mixinStandardHelpOptions = true,
        description = "TPM2_MakeCredential in software; writes the file tpm2_activatecredential -i reads.")
final class MakeCredentialCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--ek", required = true, description = "EK: ek.pub (TPM2B_PUBLIC), PEM public key or PEM certificate")
    Path ek;

    @Option(names = "--ak-name", required = true, description = "TPM Name of the key to bind the credential to, hex")
    String akName;

    @Option(names = "--secret", required = true, description = "The credential, hex (at most the EK name hash size)")
    String secret;

    @Option(names = "--out", required = true, description = "Output file")
    Path out;

    @Override
    public Integer call() throws Exception {
        Object key = Pem.readKeyFile(VerifyQuoteCommand.read(ek), ek.toString());
        EkParameters params = key instanceof TpmPublic t ? EkParameters.of(t)
                : EkParameters.ofDefaultTemplate(Pem.toPublicKey(key));
        byte[] name = VerifyQuoteCommand.hex(akName, "--ak-name");
        if (name.length < 2 + 20) {
            throw new IllegalArgumentException("--ak-name is " + name.length + " bytes: a TPM Name is nameAlg + digest");
        }
        CredentialBlob blob = new MakeCredential().make(params, name, VerifyQuoteCommand.hex(secret, "--secret"));
        Files.write(out, blob.toFile());
        CliSupport.println(spec, "credential for " + akName + " written to " + out);
        return 0;
    }
}
