package dev.outpost.appliance.cli;

import java.io.IOException;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.admin.AdminClient;
import picocli.CommandLine.Option;

/** The admin socket option every operator command shares, and the call that fails with the API's reason. */
final class AdminSocket {
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--socket", defaultValue = "${env:OUTPOST_ADMIN_SOCKET:-/run/outpost/admin.sock}",
            description = "Admin socket of the running appliance (default: ${DEFAULT-VALUE})")
    Path socket;

    AdminClient client() {
        return new AdminClient(socket);
    }

    /** The API's JSON reply, re-indented the same way for every command's {@code --json}. */
    static String pretty(String json) throws IOException {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(json));
    }

    String call(AdminClient.Reply r) throws IOException {
        if (!r.ok()) {
            String why = r.body();
            try {
                JsonNode n = JSON.readTree(r.body());
                why = n.path("error").asText(r.body());
            } catch (IOException ignored) {
                // not JSON: show it as it is
            }
            throw new IOException("appliance says (" + r.status() + "): " + why);
        }
        return r.body();
    }
}
