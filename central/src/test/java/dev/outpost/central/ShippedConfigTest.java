package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.config.ConfigLoader;

/** The central.yaml the packages install documents every key with the value the code defaults to. */
class ShippedConfigTest {
    private static final Path SHIPPED = Path.of(System.getProperty("outpost.root", ".."), "packaging/etc/outpost/central.yaml");

    @Test
    void shippedFileEqualsTheDefaultsOnceATrustDomainIsSet(@TempDir Path dir) throws Exception {
        assertThat(SHIPPED).exists();
        // As shipped it does not start: the trust domain is the operator's to choose.
        assertThatThrownBy(() -> ConfigLoader.load(SHIPPED)).hasMessageContaining("trustDomain");
        Path edited = Files.writeString(dir.resolve("central.yaml"),
                Files.readString(SHIPPED).replace("# trustDomain: example.org", "trustDomain: example.org"));
        CentralConfig loaded = ConfigLoader.load(edited);
        CentralConfig defaults = new CentralConfig();
        defaults.trustDomain = "example.org";
        ObjectMapper json = new ObjectMapper();
        assertThat((Object) json.valueToTree(loaded)).isEqualTo(json.valueToTree(defaults));
    }
}
