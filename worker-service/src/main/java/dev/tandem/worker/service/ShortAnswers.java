package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Short answers and multiple choice: the options of a question, the final answer of a free-text response, and
 * when two answers are the same. Written by hand because it is a handful of patterns over one answer line; the
 * rules follow common practice in QA scoring (SQuAD-style normalisation: case, punctuation, articles and spaces
 * ignored; numbers compared as numbers; a choice matched by its letter or its text).
 */
public final class ShortAnswers {

    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * "A) text", "(B) text", "C. text", "D: text" at the start of a line. The text is stripped afterwards: a lazy
     * group between blanks ({@code \s*(.+?)\s*$}) tried every split of a long run of blanks (quadratic).
     */
    private static final Pattern CHOICE_LINE = Pattern.compile("^\\s*\\(?([A-Za-z])[).:](.*)$");
    /** Explicit final-answer markers, the last one wins: "#### X", "The answer is X", "Answer: X". */
    private static final List<Pattern> MARKERS = List.of(
            Pattern.compile("(?m)^\\s*####\\s*(.+?)\\s*$"),
            Pattern.compile("(?i)(?:final answer|the answer|answer)\\s*(?:is|:)\\s*\\**\\s*(.+?)\\s*\\**\\s*(?:$|\\n)"));
    /** A choice letter alone, possibly bracketed: "B", "(B)", "B)", "B.", "**B**". */
    private static final Pattern LETTER = Pattern.compile("^\\**\\(?([A-Za-z])\\)?[.:]?\\**$");
    /** A letter in a sentence such as "B) Paris" or "(C) because ...". */
    private static final Pattern LEADING_LETTER = Pattern.compile("^\\**\\(?([A-Za-z])[).:]\\s+.*");
    private static final Set<String> ARTICLES = Set.of("a", "an", "the");

    private ShortAnswers() {
    }

    /**
     * The options of a multiple-choice question by letter: a JSON array of strings (lettered A, B, ...) or one
     * option per line written "A) text", "(A) text" or "A. text". Empty when the input is blank.
     *
     * @throws IllegalArgumentException when the input is neither, or gives fewer than two options
     */
    public static Map<String, String> choices(String input) {
        var out = new LinkedHashMap<String, String>();
        if (input == null || input.isBlank()) {
            return out;
        }
        var trimmed = input.strip();
        if (trimmed.startsWith("[")) {
            try {
                var array = JSON.readTree(trimmed);
                for (int i = 0; i < array.size(); i++) {
                    if (!array.get(i).isTextual() || array.get(i).asText().isBlank()) {
                        throw new IllegalArgumentException("option " + (i + 1) + " is not a non-blank string");
                    }
                    out.put(String.valueOf((char) ('A' + i)), array.get(i).asText().strip());
                }
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("not a JSON array of options: " + e.getOriginalMessage());
            }
        } else {
            for (var line : trimmed.split("\\R")) {
                if (line.isBlank()) {
                    continue;
                }
                Matcher m = CHOICE_LINE.matcher(line);
                if (!m.matches() || m.group(2).isBlank()) {
                    throw new IllegalArgumentException("option line '" + line.strip() + "' is not written 'A) text'");
                }
                var letter = m.group(1).toUpperCase(Locale.ROOT);
                if (out.putIfAbsent(letter, m.group(2).strip()) != null) {
                    throw new IllegalArgumentException("option " + letter + " is given twice");
                }
            }
        }
        if (out.size() < 2) {
            throw new IllegalArgumentException("give at least two options");
        }
        if (out.size() > 26) {
            throw new IllegalArgumentException("at most 26 options");
        }
        return out;
    }

    /**
     * The final answer of a free-text response.
     *
     * @param answer   the answer text
     * @param explicit true when the response marked it ("#### X", "The answer is X", "Answer: X"); false when it is
     *                 the response's last line
     */
    public record Extracted(String answer, boolean explicit) {
    }

    /** The final answer of a free-text response: the last explicit marker, else the last non-blank line. */
    public static Optional<Extracted> finalAnswer(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        for (var marker : MARKERS) {
            Matcher m = marker.matcher(text);
            String last = null;
            while (m.find()) {
                last = m.group(1);
            }
            if (last != null && !clean(last).isEmpty()) {
                return Optional.of(new Extracted(clean(last), true));
            }
        }
        var lines = text.strip().split("\\R");
        var line = clean(lines[lines.length - 1]);
        return line.isEmpty() ? Optional.empty() : Optional.of(new Extracted(line, false));
    }

    /**
     * The option an answer names: its letter ("B", "(B)", "B) Paris"), else the option whose text it is after
     * normalisation. Empty when it names none.
     */
    public static Optional<String> resolveChoice(String answer, Map<String, String> choices) {
        if (answer == null || choices.isEmpty()) {
            return Optional.empty();
        }
        var a = answer.strip();
        for (var pattern : List.of(LETTER, LEADING_LETTER)) {
            Matcher m = pattern.matcher(a);
            if (m.matches()) {
                var letter = m.group(1).toUpperCase(Locale.ROOT);
                if (choices.containsKey(letter)) {
                    return Optional.of(letter);
                }
            }
        }
        var normalised = normalise(a);
        return choices.entrySet().stream().filter(e -> normalise(e.getValue()).equals(normalised))
                .map(Map.Entry::getKey).findFirst();
    }

    /**
     * Whether two answers are the same: the same option when the question has options, else the same number
     * (relative tolerance) when both are numbers, else the same text after normalisation.
     */
    public static boolean same(String a, String b, Map<String, String> choices, double relativeTolerance) {
        if (!choices.isEmpty()) {
            var x = resolveChoice(a, choices);
            return x.isPresent() && x.equals(resolveChoice(b, choices));
        }
        var x = number(a);
        var y = number(b);
        if (x.isPresent() && y.isPresent()) {
            return ArithmeticCheck.agree(x.getAsDouble(), y.getAsDouble(), relativeTolerance);
        }
        var nx = normalise(a);
        return !nx.isEmpty() && nx.equals(normalise(b));
    }

    /** Lower case, accents, punctuation and the articles a/an/the removed, spaces collapsed. */
    public static String normalise(String text) {
        if (text == null) {
            return "";
        }
        var folded = Normalizer.normalize(text, Normalizer.Form.NFKD).replaceAll("\\p{M}", "")
                .toLowerCase(Locale.ROOT).replaceAll("[\\p{P}\\p{S}&&[^%]]", " ");
        var words = new ArrayList<String>();
        for (var w : folded.trim().split("\\s+")) {
            if (!w.isEmpty() && !ARTICLES.contains(w)) {
                words.add(w);
            }
        }
        return String.join(" ", words);
    }

    /** The answer as a number when it is one ("1,250", "$18.00", "42%"), else empty. */
    static OptionalDouble number(String text) {
        if (text == null) {
            return OptionalDouble.empty();
        }
        var t = text.strip().replaceAll("^[$€£]|[%.]$", "").replace(",", "").strip();
        try {
            double d = Double.parseDouble(t);
            return Double.isFinite(d) ? OptionalDouble.of(d) : OptionalDouble.empty();
        } catch (NumberFormatException e) {
            return OptionalDouble.empty();
        }
    }

    /** An answer line without surrounding markdown emphasis, quotes and a closing full stop. */
    private static String clean(String s) {
        var t = unquote(s);
        if (t.endsWith(".") && !t.matches(".*\\d\\.$") && !LETTER.matcher(t).matches()) {
            t = unquote(t.substring(0, t.length() - 1));
        }
        return t;
    }

    private static String unquote(String s) {
        return s.strip().replaceAll("^[*_\"'`]+|[*_\"'`]+$", "").strip();
    }
}
