package dev.outpost.ima.list;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/** Streams entries one at a time so a list of any length costs memory for one entry only. */
public interface ImaEntryReader extends Closeable {

    /** The next entry, or null at the end of the list. Throws {@link ImaFormatException} on malformed input. */
    ImaEntry next() throws IOException;

    /** The same stream as an iterator, for callers that want one; I/O errors surface as UncheckedIOException. */
    default Iterator<ImaEntry> iterator() {
        return new Iterator<>() {
            private ImaEntry next;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next == null && !done) {
                    try {
                        next = ImaEntryReader.this.next();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    done = next == null;
                }
                return next != null;
            }

            @Override
            public ImaEntry next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                ImaEntry e = next;
                next = null;
                return e;
            }
        };
    }

    /** Convenience for tests and small lists; bounded by the reader's entry limit. */
    default List<ImaEntry> readAll() throws IOException {
        List<ImaEntry> out = new ArrayList<>();
        for (ImaEntry e = next(); e != null; e = next()) {
            out.add(e);
        }
        return out;
    }
}
