package dev.outpost.ima.boot;

/** A CharSequence that throws after a number of reads, shared with its sub-sequences, to bound regex work. */
final class BudgetedChars implements CharSequence {
    static final class Exhausted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Exhausted() {
            super("regex budget exhausted", null, false, false);
        }
    }

    private final CharSequence s;
    private final long[] budget;

    BudgetedChars(CharSequence s, long[] budget) {
        this.s = s;
        this.budget = budget;
    }

    @Override
    public int length() {
        return s.length();
    }

    @Override
    public char charAt(int index) {
        if (--budget[0] < 0) {
            throw new Exhausted();
        }
        return s.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return new BudgetedChars(s.subSequence(start, end), budget);
    }

    @Override
    public String toString() {
        return s.toString();
    }
}
