package dev.outpost.agent.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.enroll.DeviceTpm;
import dev.outpost.agent.state.AgentState;
import dev.outpost.agent.state.NodeIdentity;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.EkTemplate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Device id, enrollment state, SVID SPIFFE ID and expiry.")
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", defaultValue = "/etc/outpost/agent.yaml", description = "Config file (default: ${DEFAULT-VALUE})")
    Path config;

    @Option(names = "--json", description = "Print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        AgentConfig c = AgentConfig.load(config);
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            out.put("deviceId", new DeviceTpm(c.tpm(), EkTemplate.parse(c.ek()), AkTemplate.parse(c.ak()), c.stateDir())
                    .endorsement().deviceId());
        } catch (Exception e) {
            out.put("deviceId", null);
            out.put("tpmError", e.getMessage());
        }
        Optional<NodeIdentity> id = new AgentState(c.stateDir()).identity();
        Instant now = Instant.now();
        out.put("state", id.isEmpty() ? "not enrolled" : id.get().validAt(now) ? "enrolled" : "expired");
        id.ifPresent(i -> {
            out.put("spiffeId", i.spiffeId());
            out.put("svidNotAfter", i.notAfter().toString());
            out.put("renewAt", i.renewAt(c.renewFraction()).toString());
        });
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            w.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        } else {
            out.forEach((k, v) -> w.println(k + ": " + v));
        }
        w.flush();
        return 0;
    }
}
