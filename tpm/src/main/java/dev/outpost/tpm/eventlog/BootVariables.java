package dev.outpost.tpm.eventlog;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** One-line summaries of BootOrder and Boot#### (EFI_LOAD_OPTION), for people reading a log. */
final class BootVariables {
    private static final Pattern BOOT_OPTION = Pattern.compile("Boot[0-9A-Fa-f]{4}");

    private BootVariables() {
    }

    /** Empty when the variable is neither, or its value does not parse: this is a description, not a check. */
    static String describe(String name, byte[] value) {
        if (name.equals("BootOrder") && value.length % 2 == 0 && value.length > 0) {
            List<String> order = new ArrayList<>();
            for (int i = 0; i < value.length; i += 2) {
                order.add(String.format("Boot%04X", (value[i] & 0xFF) | (value[i + 1] & 0xFF) << 8));
            }
            return String.join(",", order);
        }
        if (BOOT_OPTION.matcher(name).matches()) {
            try {
                return loadOption(value);
            } catch (EventLogException e) {
                return "";
            }
        }
        return "";
    }

    private static String loadOption(byte[] value) throws EventLogException {
        ByteReader r = new ByteReader(value);
        long attributes = r.u32("Attributes");
        int pathLength = r.u16("FilePathListLength");
        StringBuilder description = new StringBuilder();
        for (int c = r.u16("Description"); c != 0; c = r.u16("Description")) {
            description.append((char) c);
        }
        String file = ImageLoadDecoder.filePath(r.bytes(pathLength, "FilePathList"));
        return '"' + description.toString() + '"' + ((attributes & 1) == 0 ? " (inactive)" : "")
                + (file.isEmpty() ? "" : " file " + file);
    }
}
