package dev.tandem.worker.service;

/**
 * A step's text as a pattern reads it, within the step's deadline. A worker type file's field pattern may backtrack
 * for hours on some text (nested or adjacent quantifiers: {@code (?:[A-Z]+)+-\d}), and a running regex cannot be
 * interrupted, but its reads of the text can: every {@link #CHECK_EVERY} characters read, the deadline and the
 * caller's cancellation are checked, and the match ends with DEADLINE_EXCEEDED or CANCELLED instead of running on.
 * Not thread-safe: one matcher's text.
 */
final class DeadlineBoundText implements CharSequence {

    /** Reads between checks: a check is a clock read, a read is a few nanoseconds. */
    static final int CHECK_EVERY = 1 << 16;

    private final String text;
    private final Runnable check;
    private int reads;

    DeadlineBoundText(String text, Runnable check) {
        this.text = text;
        this.check = check;
    }

    @Override
    public char charAt(int index) {
        if (++reads == CHECK_EVERY) {
            reads = 0;
            check.run();
        }
        return text.charAt(index);
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return text.subSequence(start, end);
    }

    @Override
    public String toString() {
        return text;
    }
}
