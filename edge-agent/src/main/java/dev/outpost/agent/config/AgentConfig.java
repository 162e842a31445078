package dev.outpost.agent.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import dev.outpost.mqtt.protocol.Topics;

/**
 * The agent's configuration ({@code /etc/outpost/agent.yaml}). The bootstrap trust in the appliance is a
 * bundle file or a pinned SHA-256 fingerprint of the site CA; there is no way to say "trust anything".
 *
 * @param appliance    where the appliance's MQTT endpoint (or the site broker) is
 * @param tpm          TPM URI (device:/dev/tpmrm0 on a device)
 * @param stateDir     keys, SVID and bundle live here
 * @param trust        how the appliance's TLS certificate is checked before the agent holds a bundle
 * @param ek           EK template: rsa2048, p256 or p384
 * @param ak           attestation key type: rsa or ecc
 * @param topicPrefix  MQTT topic prefix
 * @param renewFraction renew the SVID when this fraction of its lifetime has passed (0.5: at half)
 * @param requestTimeout how long to wait for a reply
 * @param imaLog       the kernel's binary IMA measurement list
 * @param bootLog      the firmware's TCG boot event log
 * @param nodeKey      {@code tpm} (default): node keys are made and used in the TPM and certified by the AK (ECC
 *                     P-256); {@code tpm-rsa}: the same with RSA 2048, for relying parties that take RSA only (the
 *                     TPM must sign RSA-PSS with a digest-long salt, which the agent checks before using it);
 *                     {@code software}: in memory and on disk, for an appliance with enrollment.nodeKeys:
 *                     software-allowed (the device is then marked outpost:node-key:software)
 * @param workloadApi  the SPIFFE Workload API for the device's programs (off unless enabled)
 */
public record AgentConfig(Appliance appliance, String tpm, Path stateDir, Trust trust, String ek, String ak,
        String topicPrefix, double renewFraction, Duration requestTimeout, Path imaLog, Path bootLog, String nodeKey,
        WorkloadApi workloadApi) {

    /** A configuration without the Workload API section (what callers built before it existed). */
    public AgentConfig(Appliance appliance, String tpm, Path stateDir, Trust trust, String ek, String ak,
            String topicPrefix, double renewFraction, Duration requestTimeout, Path imaLog, Path bootLog, String nodeKey) {
        this(appliance, tpm, stateDir, trust, ek, ak, topicPrefix, renewFraction, requestTimeout, imaLog, bootLog,
                nodeKey, null);
    }

    /**
     * The Workload API (docs/workload-api.md).
     *
     * @param enabled        serve it (default false: the agent then loads no gRPC or Netty class)
     * @param socket         its Unix socket (default /run/outpost-agent/workload.sock)
     * @param maxBinaryBytes callers' executables above this size are not hashed, so they get no unix:sha256 or
     *                       ima:verified selector (default 256 MiB)
     */
    public record WorkloadApi(Boolean enabled, Path socket, Long maxBinaryBytes) {
        public static final Path DEFAULT_SOCKET = Path.of("/run/outpost-agent/workload.sock");
        public static final long DEFAULT_MAX_BINARY = 256L * 1024 * 1024;

        public boolean on() {
            return Boolean.TRUE.equals(enabled);
        }

        WorkloadApi withDefaults() {
            return new WorkloadApi(enabled != null && enabled, socket == null ? DEFAULT_SOCKET : socket,
                    maxBinaryBytes == null ? DEFAULT_MAX_BINARY : maxBinaryBytes);
        }
    }
    public static final String NODE_KEY_TPM = "tpm";
    public static final String NODE_KEY_TPM_RSA = "tpm-rsa";
    public static final String NODE_KEY_SOFTWARE = "software";

    public boolean softwareNodeKey() {
        return NODE_KEY_SOFTWARE.equals(nodeKey);
    }

    /** The kind of TPM-held node key to make (ignored with a software node key). */
    public dev.outpost.tpm.keys.NodeKeyTemplate nodeKeyTemplate() {
        return NODE_KEY_TPM_RSA.equals(nodeKey) ? dev.outpost.tpm.keys.NodeKeyTemplate.RSA_2048
                : dev.outpost.tpm.keys.NodeKeyTemplate.ECC_P256;
    }

    /**
     * @param mode       {@code endpoint} (default): the appliance's embedded MQTT endpoint; {@code broker}: a site
     *                   broker (packaging/mosquitto), which takes other client ids and enrollment topics
     * @param enrollPort a site broker's enrollment listener (devices without an SVID); only with mode broker
     */
    public record Appliance(String host, int port, Integer enrollPort, String mode) {
        public static final String ENDPOINT = "endpoint";
        public static final String BROKER = "broker";

        public int enrollmentPort() {
            return enrollPort == null ? port : enrollPort;
        }

        public boolean viaBroker() {
            return BROKER.equals(mode);
        }
    }

    /**
     * @param bundle             PEM file with the site CA certificate(s)
     * @param caFingerprintSha256 hex SHA-256 of the site CA certificate's DER
     */
    public record Trust(Path bundle, String caFingerprintSha256) {
    }

    public static AgentConfig load(Path file) throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
                .findAndRegisterModules()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        if (Files.size(file) > 64 * 1024) {
            throw new ConfigException(file + ": over 64 KiB, not a config file");
        }
        AgentConfig c;
        try {
            c = yaml.readValue(file.toFile(), AgentConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(file + ": unknown setting '" + e.getPropertyName() + "' at " + path(e));
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage().lines().findFirst().orElse("unreadable"));
        }
        return c.withDefaults().validated();
    }

    private static String path(UnrecognizedPropertyException e) {
        List<String> parts = new ArrayList<>();
        e.getPath().forEach(r -> parts.add(r.getFieldName() == null ? "[" + r.getIndex() + "]" : r.getFieldName()));
        return String.join(".", parts);
    }

    public AgentConfig withDefaults() {
        return new AgentConfig(appliance, tpm == null ? "device:/dev/tpmrm0" : tpm,
                stateDir == null ? Path.of("/var/lib/outpost-agent") : stateDir, trust,
                ek == null ? "rsa2048" : ek, ak == null ? "rsa" : ak,
                topicPrefix == null ? Topics.DEFAULT_PREFIX : topicPrefix,
                renewFraction == 0 ? 0.5 : renewFraction,
                requestTimeout == null ? Duration.ofSeconds(30) : requestTimeout,
                imaLog == null ? Path.of("/sys/kernel/security/ima/binary_runtime_measurements") : imaLog,
                bootLog == null ? Path.of("/sys/kernel/security/tpm0/binary_bios_measurements") : bootLog,
                nodeKey == null ? NODE_KEY_TPM : nodeKey,
                (workloadApi == null ? new WorkloadApi(null, null, null) : workloadApi).withDefaults());
    }

    public AgentConfig validated() throws ConfigException {
        List<String> errors = new ArrayList<>();
        if (appliance == null || appliance.host() == null || appliance.host().isBlank()) {
            errors.add("appliance.host: required");
        }
        if (appliance != null && (appliance.port() < 1 || appliance.port() > 65535)) {
            errors.add("appliance.port: must be 1..65535, got " + appliance.port());
        }
        if (appliance != null) {
            String mode = appliance.mode() == null ? Appliance.ENDPOINT : appliance.mode();
            if (!mode.equals(Appliance.ENDPOINT) && !mode.equals(Appliance.BROKER)) {
                errors.add("appliance.mode: endpoint or broker, got '" + mode + "'");
            } else if (mode.equals(Appliance.BROKER) && appliance.enrollPort() == null) {
                errors.add("appliance.enrollPort: required with mode broker (the broker's enrollment listener, 8884"
                        + " in the shipped Mosquitto configuration)");
            } else if (mode.equals(Appliance.ENDPOINT) && appliance.enrollPort() != null) {
                // A site broker refuses the endpoint's client ids and topics: say so now, not at every retry.
                errors.add("appliance.enrollPort: only for a site broker; add appliance.mode: broker (the embedded"
                        + " endpoint enrolls on appliance.port)");
            } else if (appliance.enrollPort() != null && (appliance.enrollPort() < 1 || appliance.enrollPort() > 65535)) {
                errors.add("appliance.enrollPort: must be 1..65535, got " + appliance.enrollPort());
            }
        }
        if (trust == null || (trust.bundle() == null && trust.caFingerprintSha256() == null)) {
            errors.add("trust: give trust.bundle (site CA PEM) or trust.caFingerprintSha256; blind trust is not offered");
        } else if (trust.caFingerprintSha256() != null) {
            String f = trust.caFingerprintSha256().replace(":", "").toLowerCase(Locale.ROOT);
            if (f.length() != 64 || !f.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
                errors.add("trust.caFingerprintSha256: 64 hex digits expected");
            }
        }
        if (!(renewFraction > 0.1 && renewFraction < 0.9)) {
            errors.add("renewFraction: must be between 0.1 and 0.9, got " + renewFraction);
        }
        if (!NODE_KEY_TPM.equals(nodeKey) && !NODE_KEY_TPM_RSA.equals(nodeKey) && !NODE_KEY_SOFTWARE.equals(nodeKey)) {
            errors.add("nodeKey: tpm, tpm-rsa or software, got '" + nodeKey + "'");
        }
        try {
            dev.outpost.tpm.keys.EkTemplate.parse(ek);
            dev.outpost.tpm.keys.AkTemplate.parse(ak);
            dev.outpost.tpm.device.TpmUri.parse(tpm);
            new Topics(topicPrefix);
        } catch (IllegalArgumentException e) {
            errors.add(e.getMessage());
        }
        if (workloadApi != null && workloadApi.on()) {
            if (workloadApi.socket() == null || !workloadApi.socket().isAbsolute()) {
                errors.add("workloadApi.socket: an absolute path, got '" + workloadApi.socket() + "'");
            } else if (workloadApi.socket().toString().length() > 107) {
                // sockaddr_un.sun_path: 108 bytes with the terminating NUL.
                errors.add("workloadApi.socket: at most 107 characters (a Unix socket path limit)");
            }
            if (workloadApi.maxBinaryBytes() != null && workloadApi.maxBinaryBytes() < 1) {
                errors.add("workloadApi.maxBinaryBytes: must be positive");
            }
        }
        if (!errors.isEmpty()) {
            throw new ConfigException("invalid agent configuration:\n  " + String.join("\n  ", errors));
        }
        return this;
    }

    /** The pinned fingerprint as bytes, or null. */
    public byte[] pinnedFingerprint() {
        return trust == null || trust.caFingerprintSha256() == null ? null
                : HexFormat.of().parseHex(trust.caFingerprintSha256().replace(":", "").toLowerCase(Locale.ROOT));
    }

    /** The configuration is wrong; the message says where and why. */
    public static final class ConfigException extends IOException {
        private static final long serialVersionUID = 1L;

        public ConfigException(String message) {
            super(message);
        }
    }
}
