package dev.tandem.worker.service;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Sentence splitting with the JDK's locale-aware {@link BreakIterator} rather than a hand-written regex. */
public final class Sentences {

    private Sentences() {
    }

    /** The sentences of a text, trimmed, blank ones dropped, in order. */
    public static List<String> split(String text) {
        var iterator = BreakIterator.getSentenceInstance(Locale.ENGLISH);
        iterator.setText(text);
        var out = new ArrayList<String>();
        int start = iterator.first();
        for (int end = iterator.next(); end != BreakIterator.DONE; start = end, end = iterator.next()) {
            var sentence = text.substring(start, end).strip();
            if (!sentence.isEmpty()) {
                out.add(sentence);
            }
        }
        return out;
    }

    /** Whether {@code value} occurs in {@code text}, ignoring case and runs of whitespace. */
    public static boolean occursIn(String value, String text) {
        return normalise(text).contains(normalise(value));
    }

    static String normalise(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
    }
}
