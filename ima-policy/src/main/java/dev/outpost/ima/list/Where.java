package dev.outpost.ima.list;

/**
 * The position of a binary entry, formatted only when an error message needs it: building the text for every
 * entry cost about a tenth of the parse time.
 */
final class Where {
    private final long index;
    private final long offset;

    Where(long index, long offset) {
        this.index = index;
        this.offset = offset;
    }

    @Override
    public String toString() {
        return "entry " + index + " at offset " + offset;
    }
}
