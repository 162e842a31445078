package dev.outpost.central.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.fleet.FleetView;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "device", mixinStandardHelpOptions = true,
        description = "The fleet: every device the sites reported (their latest state as of the site's last delivered event).",
        subcommands = {DeviceCommand.ListDevices.class, DeviceCommand.Show.class, DirectiveCommands.Revoke.class})
final class DeviceCommand {

    static Map<String, Object> view(FleetView.Device d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("site", d.site());
        m.put("deviceId", d.deviceId());
        m.put("state", d.state());
        m.put("spiffeId", d.spiffeId());
        m.put("ekHash", d.ekHash());
        m.put("reasons", d.reasons());
        m.put("revokeReason", d.revokeReason());
        m.put("updatedAt", d.updatedAt());
        return m;
    }

    abstract static class FleetCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            CentralConfig c = config.load();
            try (Database db = config.database(c)) {
                return run(new FleetView(db));
            }
        }

        abstract int run(FleetView fleet) throws Exception;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Devices, by site and id.")
    static final class ListDevices extends FleetCommand {
        @Option(names = "--site", paramLabel = "NAME")
        String site;
        @Option(names = "--state", paramLabel = "STATE", description = "pending, enrolled, trusted, failed, stale, revoked")
        String state;

        @Override
        int run(FleetView fleet) throws Exception {
            List<FleetView.Device> devices = fleet.devices(site, state);
            if (json) {
                CliSupport.json(spec, devices.stream().map(DeviceCommand::view).toList());
                return 0;
            }
            PrintWriter w = spec.commandLine().getOut();
            w.printf("%-20s  %-64s  %-8s  %s%n", "SITE", "DEVICE", "STATE", "UPDATED");
            for (FleetView.Device d : devices) {
                w.printf("%-20s  %-64s  %-8s  %s%n", d.site(), CliSupport.printable(d.deviceId()), CliSupport.printable(d.state()),
                        d.updatedAt());
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One device and its events.")
    static final class Show extends FleetCommand {
        @Parameters(paramLabel = "DEVICE-ID")
        String id;
        @Option(names = "--site", paramLabel = "NAME", description = "When the id is known at several sites")
        String site;

        @Override
        int run(FleetView fleet) throws Exception {
            List<FleetView.Device> found = fleet.devices(site, null).stream().filter(d -> d.deviceId().equals(id)).toList();
            if (found.isEmpty()) {
                throw new IllegalArgumentException("no device " + id + (site == null ? "" : " at site " + site));
            }
            if (found.size() > 1) {
                throw new IllegalArgumentException("device " + id + " is known at several sites; name one with --site");
            }
            FleetView.Device d = found.get(0);
            Map<String, Object> m = view(d);
            m.put("events", fleet.events(d.site(), null, d.deviceId(), FleetView.MAX_ROWS).stream()
                    .map(EventsCommand::view).toList());
            if (json) {
                CliSupport.json(spec, m);
                return 0;
            }
            PrintWriter w = spec.commandLine().getOut();
            for (Map.Entry<String, Object> e : view(d).entrySet()) {
                w.printf("%-13s %s%n", e.getKey() + ":", CliSupport.printable(e.getValue()));
            }
            for (FleetView.Event e : fleet.events(d.site(), null, d.deviceId(), FleetView.MAX_ROWS)) {
                w.printf("event:        %s  #%d  %-16s %s%n", e.at(), e.seq(), e.kind(), CliSupport.printable(e.data()));
            }
            w.flush();
            return 0;
        }
    }
}
