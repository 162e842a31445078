package dev.outpost.central.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/** Reads central.yaml strictly: a misspelt key is an error, not a silently ignored default. */
public final class ConfigLoader {
    private static final int MAX_BYTES = 256 * 1024;
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build())
            .build())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ConfigLoader() {
    }

    public static CentralConfig load(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ConfigException(file + " is over " + MAX_BYTES + " bytes");
            }
            CentralConfig c = YAML.readValue(Files.readAllBytes(file), CentralConfig.class);
            if (c == null) {
                throw new ConfigException(file + " is empty");
            }
            c.validate();
            return c;
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage().lines().findFirst().orElse("unreadable"), e);
        }
    }
}
