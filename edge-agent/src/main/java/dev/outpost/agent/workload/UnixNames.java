package dev.outpost.agent.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;

/**
 * User and group names for uids and gids from {@code /etc/passwd} and {@code /etc/group} (the local files only: a
 * name served by LDAP or another NSS source gives no {@code unix:user}/{@code unix:group} selector, the numeric ones
 * still hold). Re-read when a file's modification time changes; files over 4 MiB are refused (no names at all).
 */
final class UnixNames {
    private static final long MAX_FILE = 4L * 1024 * 1024;
    private final Table users;
    private final Table groups;

    UnixNames(Path passwd, Path group) {
        this.users = new Table(passwd);
        this.groups = new Table(group);
    }

    String user(int uid) {
        return users.name(uid);
    }

    String group(int gid) {
        return groups.name(gid);
    }

    /** name:x:id:... lines; the first line naming an id wins, as getpwuid does. */
    private static final class Table {
        private final Path file;
        private FileTime read;
        private Map<Integer, String> names = Map.of();

        Table(Path file) {
            this.file = file;
        }

        synchronized String name(int id) {
            try {
                FileTime m = Files.getLastModifiedTime(file);
                if (!m.equals(read)) {
                    names = load();
                    read = m;
                }
            } catch (IOException e) {
                names = Map.of();
                read = null;
            }
            return names.get(id);
        }

        private Map<Integer, String> load() throws IOException {
            if (Files.size(file) > MAX_FILE) {
                throw new IOException(file + " is over " + MAX_FILE + " bytes");
            }
            Map<Integer, String> out = new HashMap<>();
            for (String line : new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(":", -1);
                if (f.length < 3 || f[0].isEmpty() || line.startsWith("#")) {
                    continue;
                }
                try {
                    out.putIfAbsent(Integer.parseInt(f[2]), f[0]);
                } catch (NumberFormatException ignored) {
                    // a malformed line names nobody
                }
            }
            return out;
        }
    }
}
