package dev.outpost.sim;

import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.outpost.tpm.HashAlg;

/**
 * What one simulated machine boots: firmware, Secure Boot keys, the shim → grub → kernel chain and the kernel
 * command line. Images are plain byte strings; their digests in the log are the hash of these bytes (real firmware
 * logs the Authenticode hash of a PE image, which a simulation has no reason to imitate). Immutable: vary it with
 * the {@code with…} methods, e.g. {@code defaults().withKernelImage(other)} for a kernel the policy does not know.
 *
 * @param firmwareVersion EV_S_CRTM_VERSION text (PCR 0)
 * @param firmwareImage   firmware volume bytes, measured as EV_EFI_PLATFORM_FIRMWARE_BLOB (PCR 0)
 * @param secureBoot      value of the SecureBoot variable (PCR 7)
 * @param pkCert          DER of the Platform Key certificate
 * @param kekCert         DER of the KEK certificate
 * @param dbCerts         DER certificates in db
 * @param dbxHashes       SHA-256 hashes in dbx (32 bytes each)
 * @param shimImage       bytes of shimx64.efi (PCR 4)
 * @param grubImage       bytes of grubx64.efi (PCR 4)
 * @param kernelPath      the kernel's file name as grub logs it (PCR 9)
 * @param kernelImage     bytes of the kernel (PCR 4 as a boot application, PCR 9 as a file grub read)
 * @param initrdPath      the initrd's file name (PCR 9)
 * @param initrdImage     bytes of the initrd (PCR 9)
 * @param cmdline         kernel command line (PCR 8, grub's {@code kernel_cmdline: } event)
 */
public record BootProfile(String firmwareVersion, byte[] firmwareImage, boolean secureBoot, byte[] pkCert,
        byte[] kekCert, List<byte[]> dbCerts, List<byte[]> dbxHashes, byte[] shimImage, byte[] grubImage,
        String kernelPath, byte[] kernelImage, String initrdPath, byte[] initrdImage, String cmdline) {

    private static volatile BootProfile defaults;

    public BootProfile {
        firmwareImage = firmwareImage.clone();
        pkCert = pkCert.clone();
        kekCert = kekCert.clone();
        dbCerts = dbCerts.stream().map(byte[]::clone).toList();
        dbxHashes = dbxHashes.stream().map(byte[]::clone).toList();
        for (byte[] h : dbxHashes) {
            if (h.length != 32) {
                throw new IllegalArgumentException("dbx hashes are SHA-256 (32 bytes)");
            }
        }
        shimImage = shimImage.clone();
        grubImage = grubImage.clone();
        kernelImage = kernelImage.clone();
        initrdImage = initrdImage.clone();
        if (cmdline.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("the command line is a C string: no NUL");
        }
    }

    /**
     * A plausible Secure Boot machine. The certificates are made once per JVM and shared, so every kernel booted
     * with the defaults writes the same log and every good policy made from one of them fits all of them.
     */
    public static BootProfile defaults() {
        BootProfile d = defaults;
        if (d == null) {
            synchronized (BootProfile.class) {
                if (defaults == null) {
                    defaults = new BootProfile("Outpost Simulated UEFI 1.0", bytes("firmware volume 1.0"), true,
                            selfSignedCertificate("CN=Outpost Sim Platform Key", 1),
                            selfSignedCertificate("CN=Outpost Sim KEK CA", 2),
                            List.of(selfSignedCertificate("CN=Outpost Sim UEFI CA", 3)),
                            List.of(HashAlg.SHA256.digest(bytes("revoked grubx64.efi 2.04"))),
                            bytes("shimx64.efi 15.8"), bytes("grubx64.efi 2.12"),
                            "/vmlinuz-6.1.0-outpost", bytes("vmlinuz 6.1.0-outpost"),
                            "/initrd.img-6.1.0-outpost", bytes("initrd 6.1.0-outpost"),
                            "BOOT_IMAGE=/vmlinuz-6.1.0-outpost root=/dev/mapper/root ro quiet ima_policy=tcb"
                                    + " ima_template=ima-ng ima_hash=sha256");
                }
                d = defaults;
            }
        }
        return d;
    }

    // Accessors hand out copies: a profile is shared (defaults()) and must boot the same way every time.
    @Override
    public byte[] firmwareImage() {
        return firmwareImage.clone();
    }

    @Override
    public byte[] pkCert() {
        return pkCert.clone();
    }

    @Override
    public byte[] kekCert() {
        return kekCert.clone();
    }

    @Override
    public byte[] shimImage() {
        return shimImage.clone();
    }

    @Override
    public byte[] grubImage() {
        return grubImage.clone();
    }

    @Override
    public byte[] kernelImage() {
        return kernelImage.clone();
    }

    @Override
    public byte[] initrdImage() {
        return initrdImage.clone();
    }

    @Override
    public List<byte[]> dbCerts() {
        return dbCerts.stream().map(byte[]::clone).toList();
    }

    @Override
    public List<byte[]> dbxHashes() {
        return dbxHashes.stream().map(byte[]::clone).toList();
    }

    /** A self-signed EC P-256 certificate (DER) for PK/KEK/db; made with Bouncy Castle. */
    public static byte[] selfSignedCertificate(String subject, long serial) {
        return Certificates.selfSigned(subject, serial);
    }

    public BootProfile withFirmwareImage(byte[] v) {
        return new BootProfile(firmwareVersion, v, secureBoot, pkCert, kekCert, dbCerts, dbxHashes, shimImage,
                grubImage, kernelPath, kernelImage, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withSecureBoot(boolean v) {
        return new BootProfile(firmwareVersion, firmwareImage, v, pkCert, kekCert, dbCerts, dbxHashes, shimImage,
                grubImage, kernelPath, kernelImage, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withDbCerts(List<byte[]> v) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, v, dbxHashes, shimImage,
                grubImage, kernelPath, kernelImage, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withDbxHashes(List<byte[]> v) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, dbCerts, v, shimImage,
                grubImage, kernelPath, kernelImage, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withShimImage(byte[] v) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, dbCerts, dbxHashes, v,
                grubImage, kernelPath, kernelImage, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withGrubImage(byte[] v) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, dbCerts, dbxHashes,
                shimImage, v, kernelPath, kernelImage, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withKernelImage(byte[] v) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, dbCerts, dbxHashes,
                shimImage, grubImage, kernelPath, v, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withKernel(String path, byte[] image) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, dbCerts, dbxHashes,
                shimImage, grubImage, path, image, initrdPath, initrdImage, cmdline);
    }

    public BootProfile withInitrd(String path, byte[] image) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, dbCerts, dbxHashes,
                shimImage, grubImage, kernelPath, kernelImage, path, image, cmdline);
    }

    public BootProfile withCmdline(String v) {
        return new BootProfile(firmwareVersion, firmwareImage, secureBoot, pkCert, kekCert, dbCerts, dbxHashes,
                shimImage, grubImage, kernelPath, kernelImage, initrdPath, initrdImage, v);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
