package dev.outpost.tpm.eventlog;

import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;

/** The decoded form of an event's data; {@link #describe()} is one line for a person. */
public interface EventData {

    /** One line for a person; never throws. */
    String describe();

    /** Types without a decoder: the raw data is all there is. */
    record Opaque(int length) implements EventData {
        @Override
        public String describe() {
            return length + " bytes";
        }
    }

    /** The data of this one event could not be decoded; the log as a whole is still usable. */
    record Undecodable(String reason) implements EventData {
        @Override
        public String describe() {
            return "undecodable: " + reason;
        }
    }

    /** EV_NO_ACTION "StartupLocality": the locality TPM2_Startup ran at, which seeds PCR 0. */
    record StartupLocality(int locality) implements EventData {
        @Override
        public String describe() {
            return "StartupLocality " + locality;
        }
    }

    /** Other EV_NO_ACTION records, named by their leading NUL-terminated ASCII signature, empty if none. */
    record NoAction(String signature) implements EventData {
        @Override
        public String describe() {
            return signature.isEmpty() ? "no action" : "no action: " + signature;
        }
    }

    /** UEFI_VARIABLE_DATA; {@code signatures} holds the EFI_SIGNATURE_LIST entries of PK, KEK, db and dbx. */
    record EfiVariable(Guid vendor, String name, byte[] value, List<SignatureEntry> signatures)
            implements EventData {
        public EfiVariable {
            value = value.clone();
            signatures = List.copyOf(signatures);
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public String describe() {
            StringBuilder sb = new StringBuilder("variable ").append(vendor).append(' ').append(name)
                    .append(" (").append(value.length).append(" bytes)");
            String option = BootVariables.describe(name, value);
            if (!option.isEmpty()) {
                sb.append(": ").append(option);
            } else if (value.length > 0 && value.length <= 8) {
                sb.append(" = ").append(HexFormat.of().formatHex(value));
            }
            for (SignatureEntry s : signatures) {
                sb.append("\n  ").append(s.describe());
            }
            return sb.toString();
        }
    }

    /** One EFI_SIGNATURE_DATA: its list's type, the owner and the payload (certificate, hash, ...). */
    record SignatureEntry(Guid type, Guid owner, byte[] data) {
        public SignatureEntry {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        public boolean isX509() {
            return Guid.CERT_X509.equals(type);
        }

        public boolean isSha256() {
            return Guid.CERT_SHA256.equals(type) && data.length == 32;
        }

        /** The certificate of an X.509 entry, or null when it is not one or does not parse. */
        public X509Certificate certificate() {
            if (!isX509()) {
                return null;
            }
            try {
                return (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(data));
            } catch (CertificateException | RuntimeException e) {
                return null;
            }
        }

        String describe() {
            if (isSha256()) {
                return "sha256 " + HexFormat.of().formatHex(data) + " owner " + owner;
            }
            if (isX509()) {
                X509Certificate c = certificate();
                return "x509 " + (c == null ? "(unparseable, " + data.length + " bytes)"
                        : c.getSubjectX500Principal().getName()) + " owner " + owner;
            }
            return "type " + type + " owner " + owner + " (" + data.length + " bytes)";
        }
    }

    /** UEFI_IMAGE_LOAD_EVENT; {@code path} joins the file path nodes of the device path, best effort. */
    record ImageLoad(long location, long length, long linkTimeAddress, byte[] devicePath, String path)
            implements EventData {
        public ImageLoad {
            devicePath = devicePath.clone();
        }

        @Override
        public byte[] devicePath() {
            return devicePath.clone();
        }

        @Override
        public String describe() {
            return String.format("image at 0x%x length %d, device path %d bytes%s", location, length,
                    devicePath.length, path.isEmpty() ? "" : ", file " + path);
        }
    }

    /**
     * EV_SEPARATOR. 0 is the normal boundary and 0xFFFFFFFF means the firmware hit an error; Windows puts
     * "WBCL" (0x4c434257) in PCRs 12-14, which is neither.
     */
    record Separator(long value) implements EventData {
        @Override
        public String describe() {
            if (value == 0) {
                return "separator";
            }
            return value == 0xFFFFFFFFL ? "separator (error)" : String.format("separator (value 0x%08x)", value);
        }
    }

    /** String-valued events: EV_POST_CODE text, EV_S_CRTM_VERSION, EV_IPL, EV_EFI_ACTION, EV_ACTION. */
    record Text(String text) implements EventData {
        @Override
        public String describe() {
            return '"' + text + '"';
        }
    }

    /** UEFI_PLATFORM_FIRMWARE_BLOB(2); {@code description} is empty for the version 1 form. */
    record FirmwareBlob(String description, long base, long length) implements EventData {
        @Override
        public String describe() {
            return String.format("firmware blob %s0x%x length %d",
                    description.isEmpty() ? "" : '"' + description + "\" ", base, length);
        }
    }

    /** UEFI_HANDOFF_TABLE_POINTERS(2): EFI configuration tables handed to the OS. */
    record HandoffTables(String description, List<ConfigTable> tables) implements EventData {
        public HandoffTables {
            tables = List.copyOf(tables);
        }

        @Override
        public String describe() {
            StringBuilder sb = new StringBuilder("handoff tables");
            if (!description.isEmpty()) {
                sb.append(" \"").append(description).append('"');
            }
            for (ConfigTable t : tables) {
                sb.append("\n  ").append(t.guid()).append(String.format(" at 0x%x", t.address()));
            }
            return sb.toString();
        }
    }

    /** One EFI_CONFIGURATION_TABLE entry. */
    record ConfigTable(Guid guid, long address) {
    }

    /** UEFI_GPT_DATA: the disk's GPT header and the partitions that are in use. */
    record Gpt(Guid diskGuid, long partitionCount, List<GptPartition> partitions) implements EventData {
        public Gpt {
            partitions = List.copyOf(partitions);
        }

        @Override
        public String describe() {
            StringBuilder sb = new StringBuilder("GPT disk ").append(diskGuid).append(", ").append(partitionCount)
                    .append(" partitions");
            for (GptPartition p : partitions) {
                sb.append("\n  ").append(p.type()).append(' ').append(p.unique()).append(" lba ")
                        .append(p.firstLba()).append('-').append(p.lastLba()).append(" \"").append(p.name())
                        .append('"');
            }
            return sb.toString();
        }
    }

    /** One EFI_PARTITION_ENTRY. */
    record GptPartition(Guid type, Guid unique, long firstLba, long lastLba, String name) {
    }

    /** TCG_PCClientTaggedEvent. */
    record EventTag(long id, byte[] data) implements EventData {
        public EventTag {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public String describe() {
            return String.format("tagged event 0x%08x, %d bytes", id, data.length);
        }
    }
}
