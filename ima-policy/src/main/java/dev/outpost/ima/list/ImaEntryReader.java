package dev.outpost.ima.list;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Streams entries one at a time so a list of any length costs memory for one entry only. */
public interface ImaEntryReader extends Closeable {

    /** The next entry, or null at the end of the list. Throws {@link ImaFormatException} on malformed input. */
    ImaEntry next() throws IOException;

    /** Convenience for tests and small lists; bounded by the reader's entry limit. */
    default List<ImaEntry> readAll() throws IOException {
        List<ImaEntry> out = new ArrayList<>();
        for (ImaEntry e = next(); e != null; e = next()) {
            out.add(e);
        }
        return out;
    }
}
