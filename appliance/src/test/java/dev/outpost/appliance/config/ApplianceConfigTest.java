package dev.outpost.appliance.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.outpost.appliance.config.ApplianceConfig.EkTrust;

class ApplianceConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsRunOnAGateway() {
        ApplianceConfig c = ApplianceConfig.defaults();
        assertThat(c.trustDomain()).isEqualTo("outpost.internal");
        assertThat(c.site()).isEqualTo("site");
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/outpost"));
        assertThat(c.runtimeDir()).isEqualTo(Path.of("/run/outpost"));
        assertThat(c.mqtt()).isEqualTo(new ApplianceConfig.Mqtt("0.0.0.0", 8883, "outpost/v1", 65536,
                new ApplianceConfig.Tls(null, null), "embedded", new ApplianceConfig.Broker(null, null)));
        assertThat(c.mqtt().tls().selfIssued()).isTrue();
        assertThat(c.admin().socket()).isEqualTo(Path.of("/run/outpost/admin.sock"));
        assertThat(c.metrics()).isEqualTo(new ApplianceConfig.Metrics("127.0.0.1", 9464));
        assertThat(c.ca()).isEqualTo(new ApplianceConfig.Ca(ApplianceConfig.CaMode.STANDALONE, Duration.ofDays(90), Duration.ofHours(1)));
        assertThat(c.enrollment()).isEqualTo(new ApplianceConfig.Enrollment(EkTrust.EITHER, Path.of("/etc/outpost/allow"),
                Path.of("/etc/outpost/ek-ca"), Duration.ofMinutes(2), 600, 10));
        assertThat(c.caDir()).isEqualTo(Path.of("/var/lib/outpost/ca"));
    }

    @Test
    void shippedFileLoadsAndEqualsTheDefaults() {
        Path shipped = Path.of(System.getProperty("outpost.root", ".."), "packaging/etc/outpost/appliance.yaml");
        assertThat(shipped).exists();
        assertThat(ApplianceConfig.load(shipped)).isEqualTo(ApplianceConfig.defaults());
    }

    @Test
    void aFullFileOverridesEverything() throws Exception {
        Path f = dir.resolve("a.yaml");
        Files.writeString(f, """
                trustDomain: plant-7.example.com
                site: plant-7
                dataDir: /srv/outpost
                runtimeDir: /run/op
                mqtt:
                  host: 10.0.0.1
                  port: 18883
                  topicPrefix: acme/outpost/v1
                  maxPayloadBytes: 131072
                  tls: {cert: /etc/outpost/tls.crt, key: /etc/outpost/tls.key}
                admin:
                  socket: /run/op/admin.socket
                metrics: {host: 0.0.0.0, port: 9100}
                ca: {ttl: P730D, svidTtl: PT30M}
                enrollment:
                  ekTrust: both
                  allowListDir: /srv/allow
                  ekCaDir: /srv/ek-ca
                  activationTtl: PT5M
                  rateLimitPerMinute: 60
                """);
        ApplianceConfig c = ApplianceConfig.load(f);
        assertThat(c.trustDomain()).isEqualTo("plant-7.example.com");
        assertThat(c.mqtt().port()).isEqualTo(18883);
        assertThat(c.mqtt().tls().cert()).isEqualTo(Path.of("/etc/outpost/tls.crt"));
        assertThat(c.mqtt().tls().selfIssued()).isFalse();
        assertThat(c.admin().socket()).isEqualTo(Path.of("/run/op/admin.socket"));
        assertThat(c.ca().svidTtl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.enrollment().ekTrust()).isEqualTo(EkTrust.BOTH);
        assertThat(c.enrollment().rateLimitPerMinute()).isEqualTo(60);
    }

    @Test
    void webhookIsHttpsUnlessPlainHttpIsExplicitlyAllowed() {
        assertThat(ApplianceConfig.defaults().attestation().webhook())
                .isEqualTo(new ApplianceConfig.Webhook(null, false, null, null));
        assertThat(ApplianceConfig.parse("attestation: {webhook: {url: 'https://siem.example/rev'}}", "t")
                .attestation().webhook()).isEqualTo(new ApplianceConfig.Webhook("https://siem.example/rev", false, null, null));
        assertThat(ApplianceConfig.parse("attestation:\n  webhook:\n    url: http://127.0.0.1:9000/rev\n"
                + "    allowInsecureHttp: true\n", "t").attestation().webhook())
                .isEqualTo(new ApplianceConfig.Webhook("http://127.0.0.1:9000/rev", true, null, null));
    }

    @Test
    void partialFileKeepsOtherDefaultsAndSocketFollowsRuntimeDir() {
        ApplianceConfig c = ApplianceConfig.parse("runtimeDir: /run/x\nmqtt:\n  port: 1883\nca:\n", "t");
        assertThat(c.mqtt().port()).isEqualTo(1883);
        assertThat(c.mqtt().host()).isEqualTo("0.0.0.0");
        assertThat(c.ca().ttl()).isEqualTo(Duration.ofDays(90));
        assertThat(c.admin().socket()).isEqualTo(Path.of("/run/x/admin.sock"));
        assertThat(ApplianceConfig.parse("", "empty")).isEqualTo(ApplianceConfig.defaults());
    }

    @Test
    void withDirsMovesDataRuntimeAndTheDefaultSocket() {
        ApplianceConfig c = ApplianceConfig.defaults().withDirs(dir.resolve("data"), dir.resolve("run"));
        assertThat(c.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(c.caDir()).isEqualTo(dir.resolve("data/ca"));
        assertThat(c.admin().socket()).isEqualTo(dir.resolve("run/admin.sock"));
        ApplianceConfig explicit = ApplianceConfig.parse("admin: {socket: /tmp/a.sock}", "t").withDirs(dir, dir);
        assertThat(explicit.admin().socket()).isEqualTo(Path.of("/tmp/a.sock"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "mqtt: {port: -1}                         | mqtt.port: must be 0..65535 (0: any free port), got -1",
            "metrics: {port: 70000}                   | metrics.port: must be 0..65535 (0: any free port), got 70000",
            "mqtt: {prot: 8883}                       | mqtt.prot: unknown key (known here: broker, host, maxPayloadBytes, mode, port, tls, topicPrefix)",
            "colour: blue                             | colour: unknown key",
            "mqtt: {tls: {cert: /a, kee: /b}}         | mqtt.tls.kee: unknown key",
            "trustDomain: Example.COM                 | trustDomain: trust domain must be in lowercase",
            "trustDomain: spiffe://example.org        | trustDomain: trust domain is a bare name",
            "trustDomain: ''                          | trustDomain: trust domain is empty",
            "ca: {svidTtl: P400D}                     | ca.svidTtl: must be shorter than ca.ttl (PT2160H), got PT9600H",
            "ca: {ttl: PT0S}                          | ca.ttl: must be positive, got PT0S",
            "ca: {ttl: one year}                      | ca.ttl: cannot read 'one year' as an ISO-8601 duration",
            "mqtt: {port: eighty}                     | mqtt.port: expected a whole number",
            "mqtt: {port: 8883.5}                     | mqtt.port:",
            "mqtt: {port: null}                       | mqtt.port:",
            "mqtt: 5                                  | mqtt: expected a mapping of keys",
            "enrollment: {ekTrust: maybe}             | enrollment.ekTrust: must be one of either, hash, cert, both; got 'maybe'",
            "enrollment: {activationTtl: PT1S}        | enrollment.activationTtl: must be PT10S..PT1H, got PT1S",
            "enrollment: {rateLimitPerMinute: 0}      | enrollment.rateLimitPerMinute: must be 1..1000000, got 0",
            "enrollment: {allowListDir: etc/allow}    | enrollment.allowListDir: must be an absolute path, got etc/allow",
            "mqtt: {tls: {cert: /etc/a.crt}}          | mqtt.tls: cert and key must be set together",
            "mqtt: {topicPrefix: 'outpost/#'}         | mqtt.topicPrefix: must not contain the wildcards",
            "mqtt: {topicPrefix: /outpost}            | mqtt.topicPrefix: must be topic levels joined by '/'",
            "mqtt: {maxPayloadBytes: 10}              | mqtt.maxPayloadBytes: must be 1024..16777216, got 10",
            "attestation: {flushInterval: PT0S}       | attestation.flushInterval: must be positive, got PT0S",
            "attestation: {maxBufferedEvidenceBytes: 1024} | attestation.maxBufferedEvidenceBytes: must be 0 (a quarter of the heap) or at least attestation.maxEvidenceBytes",
            "attestation: {webhook: {url: 'http://siem.example/rev'}} | attestation.webhook.url: must be https:// (revocation events would cross the network in clear text",
            "attestation: {webhook: {url: 'HTTP://siem.example/rev'}} | attestation.webhook.url: must be https://",
            "attestation: {webhook: {url: 'ftp://siem.example/rev'}}  | attestation.webhook.url: must be an https:// URL or null, got 'ftp://siem.example/rev'",
            "attestation: {webhook: {url: 'https:///rev'}}            | attestation.webhook.url: has no host",
            "attestation: {webhook: {url: 'http://127.0.0.1/rev', allowInsecureHttp: true, caFile: /etc/ca.pem}} | attestation.webhook.caFile: only for an https:// URL",
            "attestation: {webhook: {url: 'https://siem.example/rev', caFile: ca.pem}} | attestation.webhook.caFile: must be an absolute path",
            "attestation: {webhook: {url: 'https://siem.example/rev', authorizationFile: token}} | attestation.webhook.authorizationFile: must be an absolute path",
            "attestation: {webhook: {authorizationFile: /etc/outpost/webhook.token}} | attestation.webhook.authorizationFile: set, but attestation.webhook.url is not",
            "attestation: {webhook: {caFile: /etc/outpost/siem-ca.pem}} | attestation.webhook.caFile: set, but attestation.webhook.url is not",
            "attestation: {webhook: {url: 'https://a b/'}}            | attestation.webhook.url: not a URL",
            "attestation: {webhook: 'https://siem.example/rev'}       | attestation.webhook: expected a mapping of keys",
            "attestation: {webhook: {allowInsecureHTTP: true}}        | attestation.webhook.allowInsecureHTTP: unknown key (known here: allowInsecureHttp, authorizationFile, caFile, url)",
            "federation: {bundleEndpoint: {enabled: true, profile: https_web}} | federation.bundleEndpoint: https_web needs certFile and keyFile",
            "federation: {bundleEndpoint: {enabled: true, profile: http}}      | federation.bundleEndpoint.profile: must be https_spiffe or https_web, got 'http'",
            "federation: {bundleEndpoint: {enabled: true, certFile: /a.pem, keyFile: /a.key}} | federation.bundleEndpoint: https_spiffe authenticates with an SVID from the site CA",
            "ca: {mode: nested}\\nfederation: {bundleEndpoint: {enabled: true}} | federation.bundleEndpoint.enabled: a nested site is part of central's trust domain",
            "site: 'bad site'                         | site: must be 1..63 letters",
            "dataDir: relative                        | dataDir: must be an absolute path, got relative",
            "- a list                                 | the top level must be a mapping",
            "a: [unclosed                             | not valid YAML",
    })
    void errorsNameThePathAndTheReason(String yaml, String message) {
        assertThatThrownBy(() -> ApplianceConfig.parse(yaml.replace("\\n", "\n"), "test.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: ")
                .hasMessageContaining(message);
    }

    @Test
    void duplicateKeysAndAliasesAreCaught() {
        assertThatThrownBy(() -> ApplianceConfig.parse("mqtt: {port: 1}\nmqtt: {port: 2}", "t"))
                .hasMessageContaining("not valid YAML").hasMessageContaining("mqtt");
        assertThatThrownBy(() -> ApplianceConfig.parse("x: &a [1]\ny: *a", "t")).hasMessageContaining("x: unknown key");
    }

    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> ApplianceConfig.parse("mqtt: {port: -1}\nmetrics: {port: 70000}\nsite: ''", "t"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).hasSize(3))
                .hasMessageContaining("3 errors");
    }

    @Test
    void adminSocketLongerThanSunPathIsRefused() {
        String longDir = "/run/" + "x".repeat(120);
        assertThatThrownBy(() -> ApplianceConfig.parse("runtimeDir: " + longDir, "t"))
                .hasMessageContaining("admin.socket: path longer than 107 bytes");
    }

    @Test
    void missingAndOversizeFiles() throws Exception {
        assertThatThrownBy(() -> ApplianceConfig.load(dir.resolve("nope.yaml"))).hasMessageEndingWith("nope.yaml: no such file");
        Path big = dir.resolve("big.yaml");
        Files.writeString(big, "# " + "x".repeat(300_000));
        assertThatThrownBy(() -> ApplianceConfig.load(big)).hasMessageContaining("over the 262144 limit");
    }

    @Test
    void caKeyProtectionTpmNeedsTheGatewaysTpmAndSha256PcrsOnly() {
        ApplianceConfig c = ApplianceConfig.parse("ca:\n  keyProtection: tpm\n  sealPcrs: sha256:0,2,4,7\n"
                + "upstream:\n  tpm: device:/dev/tpmrm0\n", "t");
        assertThat(c.ca().sealed()).isTrue();
        assertThat(c.ca().sealPcrs()).isEqualTo("sha256:0,2,4,7");
        assertThat(ApplianceConfig.defaults().ca().keyProtection()).isEqualTo(ApplianceConfig.KeyProtection.FILE);
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  keyProtection: tpm\n", "t"))
                .hasMessageContaining("upstream.tpm: ca.keyProtection: tpm seals the CA key");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  keyProtection: tpm\n  sealPcrs: sha1:7\n"
                + "upstream:\n  tpm: device:/dev/tpmrm0\n", "t")).hasMessageContaining("ca.sealPcrs: only the sha256 bank");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  sealPcrs: sha256:7\n", "t"))
                .hasMessageContaining("ca.sealPcrs: only with ca.keyProtection: tpm");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  keyProtection: vault\n", "t"))
                .hasMessageContaining("must be file or tpm");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  keyProtection: tpm\nupstream:\n  tpm: /dev/tpm0\n", "t"))
                .hasMessageContaining("upstream.tpm");
    }

    @Test
    void nestedWithoutUpstreamIsTheFileFlow() {
        ApplianceConfig c = ApplianceConfig.parse("ca:\n  mode: nested\n", "t");
        assertThat(c.ca().nested()).isTrue();
        assertThat(c.upstream().online()).isFalse();
    }

    @Test
    void upstreamIsCheckedWhole() {
        ApplianceConfig c = ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  url: https://central.example:8444\n"
                + "  caFile: /etc/outpost/central-ca.pem\n  join: token\n  tokenFile: /etc/outpost/join.token\n", "t");
        assertThat(c.upstream().join()).isEqualTo(ApplianceConfig.JoinMethod.TOKEN);
        assertThatThrownBy(() -> ApplianceConfig.parse("upstream:\n  url: https://c:8444\n  caFile: /c.pem\n"
                + "  join: tpm\n  tpm: device:/dev/tpmrm0\n", "t"))
                .hasMessageContaining("upstream.url: only a nested site CA");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  url: http://c:8444\n"
                + "  join: token\n", "t"))
                .hasMessageContaining("upstream.url: must be https://")
                .hasMessageContaining("upstream.caFile: required")
                .hasMessageContaining("upstream.token: join: token needs exactly one");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  url: https://c:8444\n"
                + "  caFile: /c.pem\n  join: tpm\n  tpm: /dev/tpm0\n", "t"))
                .hasMessageContaining("upstream.tpm");
        assertThatThrownBy(() -> ApplianceConfig.parse("site: Plant_1\nca:\n  mode: nested\nupstream:\n  url: https://c:8444\n"
                + "  caFile: /c.pem\n  join: token\n  token: t\n", "t"))
                .hasMessageContaining("site: a site joined to central is named as central names it");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  mode: sideways\n", "t"))
                .hasMessageContaining("must be standalone or nested");
    }

    @Test
    void severalCentralAddressesAreAListAndOneUrlIsAListOfOne() {
        String rest = "  caFile: /c.pem\n  join: token\n  token: t\n";
        ApplianceConfig one = ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  url: https://a:8444\n" + rest, "t");
        assertThat(one.upstream().addresses()).containsExactly("https://a:8444");
        assertThat(one.upstream().connectTimeout()).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(one.upstream().requestTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
        ApplianceConfig two = ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  urls: [https://a:8444, https://b:8444]\n"
                + "  requestTimeout: PT5S\n" + rest, "t");
        assertThat(two.upstream().addresses()).containsExactly("https://a:8444", "https://b:8444");
        assertThat(two.upstream().online()).isTrue();
        assertThat(two.upstream().requestTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));

        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  url: https://a:8444\n"
                + "  urls: [https://b:8444]\n" + rest, "t"))
                .hasMessageContaining("upstream.urls: set upstream.url (one address) or upstream.urls (a list), not both");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  urls: []\n" + rest, "t"))
                .hasMessageContaining("upstream.urls: an empty list");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  urls: [https://a:8444, http://b:8444,"
                + " https://a:8444]\n" + rest, "t"))
                .hasMessageContaining("upstream.urls[1]: must be https://")
                .hasMessageContaining("upstream.urls: lists an address twice");
        assertThatThrownBy(() -> ApplianceConfig.parse("ca:\n  mode: nested\nupstream:\n  urls: [https://a:8444/x]\n"
                + "  connectTimeout: PT0S\n" + rest, "t"))
                .hasMessageContaining("upstream.urls[0]: must not have a path")
                .hasMessageContaining("upstream.connectTimeout");
    }

    @Test
    void theAuditAnchorNeedsTheGatewaysTpmAndAnOwnerIndex() {
        ApplianceConfig c = ApplianceConfig.parse("upstream: {tpm: 'device:/dev/tpmrm0'}\naudit: {anchor: tpm}\n", "t");
        assertThat(c.audit().tpm()).isTrue();
        assertThat(c.audit().nvIndex()).isEqualTo(0x01000a17);
        assertThat(c.audit().anchorInterval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(ApplianceConfig.defaults().audit().tpm()).as("unanchored by default").isFalse();
        assertThatThrownBy(() -> ApplianceConfig.parse("audit: {anchor: tpm}\n", "t"))
                .hasMessageContaining("audit.anchor: tpm needs the gateway's TPM");
        assertThatThrownBy(() -> ApplianceConfig.parse("audit: {anchor: pcr}\n", "t"))
                .hasMessageContaining("audit.anchor").hasMessageContaining("must be none or tpm");
        assertThatThrownBy(() -> ApplianceConfig.parse("audit: {anchorNvIndex: '0x01400000'}\n", "t"))
                .hasMessageContaining("audit.anchorNvIndex");
        assertThatThrownBy(() -> ApplianceConfig.parse("audit: {anchorNvIndex: 'zz'}\n", "t"))
                .hasMessageContaining("audit.anchorNvIndex");
    }
}
