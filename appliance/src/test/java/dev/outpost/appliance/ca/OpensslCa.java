package dev.outpost.appliance.ca;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.outpost.testkit.ProcessRunner;
import dev.outpost.testkit.Tools;

/** An upstream CA run by openssl, as an air-gapped operator would: a root, and CSRs signed with an extension file. */
public final class OpensslCa {
    private final Path dir;
    private final String name;

    private OpensslCa(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new self-signed P-256 root in {@code dir}: {@code <name>.pem}, {@code <name>.key}. */
    public static OpensslCa root(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        OpensslCa ca = new OpensslCa(dir, name);
        ca.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca.key().toString(), "-out", ca.pem().toString(), "-subj", "/O=Corp/CN=" + name,
                "-days", "3650", "-addext", "basicConstraints=critical,CA:true",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return ca;
    }

    public Path pem() {
        return dir.resolve(name + ".pem");
    }

    public Path key() {
        return dir.resolve(name + ".key");
    }

    /** The usual site CA extensions for trust domain {@code td}. */
    public static String siteCaExtensions(String td) {
        return "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
                + "subjectAltName=URI:spiffe://" + td + "\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
    }

    /** Signs {@code csr} for {@code days} with the given extension lines; returns the certificate file. */
    public Path sign(Path csr, String extensions, int days, Path out) throws IOException {
        Path ext = Files.createTempFile(dir, "ext", ".cnf");
        Files.writeString(ext, extensions);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", pem().toString(), "-CAkey", key().toString(),
                "-CAcreateserial", "-days", Integer.toString(days), "-sha256", "-extfile", ext.toString(),
                "-out", out.toString());
        return out;
    }

    /** {@code openssl verify -CAfile root -untrusted intermediates leaf}: its output. */
    public static ProcessRunner.Result verify(Path root, Path untrusted, Path leaf) {
        List<String> cmd = new ArrayList<>(List.of(Tools.require("openssl").toString(), "verify", "-CAfile", root.toString()));
        if (untrusted != null) {
            cmd.addAll(List.of("-untrusted", untrusted.toString()));
        }
        cmd.add(leaf.toString());
        return ProcessRunner.run(cmd, root.getParent(), Map.of(), 30);
    }

    private void openssl(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Tools.require("openssl").toString());
        cmd.addAll(List.of(args));
        ProcessRunner.run(cmd, dir, Map.of(), 60).assertSuccess();
    }
}
