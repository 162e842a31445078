package dev.outpost.sim;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaListWriter;

/**
 * The kernel's two views of one measurement list, binary_runtime_measurements and ascii_runtime_measurements,
 * kept in step: each entry is appended to both files, so a reader (an agent tailing the list from an offset) sees
 * what it would see in securityfs.
 */
final class ImaListFiles {
    private final Path binary;
    private final Path ascii;
    private final List<ImaEntry> entries = new ArrayList<>();

    ImaListFiles(Path imaDir) throws IOException {
        Files.createDirectories(imaDir);
        this.binary = imaDir.resolve("binary_runtime_measurements");
        this.ascii = imaDir.resolve("ascii_runtime_measurements");
        // A boot starts an empty list, as a fresh securityfs does.
        Files.write(binary, new byte[0]);
        Files.write(ascii, new byte[0]);
    }

    Path binary() {
        return binary;
    }

    Path ascii() {
        return ascii;
    }

    long size() {
        return entries.size();
    }

    List<ImaEntry> entries() {
        return List.copyOf(entries);
    }

    void append(ImaEntry e) throws IOException {
        if (e.index() != entries.size()) {
            throw new IllegalStateException("entry " + e.index() + " appended at position " + entries.size());
        }
        // One write per entry and file: an agent tailing the list concurrently should not see half an entry,
        // which securityfs never shows either.
        ByteArrayOutputStream bin = new ByteArrayOutputStream(256);
        ImaListWriter.writeBinary(bin, e);
        StringWriter text = new StringWriter(256);
        ImaListWriter.writeAscii(text, e);
        Files.write(binary, bin.toByteArray(), StandardOpenOption.APPEND);
        Files.write(ascii, text.toString().getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        entries.add(e);
    }
}
