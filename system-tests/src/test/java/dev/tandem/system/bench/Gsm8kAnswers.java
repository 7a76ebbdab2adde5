package dev.tandem.system.bench;

import java.math.BigDecimal;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Final numbers of GSM8K answers, parsed the way the reference answers of GSM8K's {@code test.jsonl} are: the number
 * after the last {@code ####}, else the last number of the text ({@code <<a*b=c>>} calculator annotations left
 * out). {@code $} signs and thousands commas are dropped and the value is compared as a number, so {@code $1,800.00}
 * equals {@code 1800}. The scorer and the GSM8K converter share this one parser, so a question has one number and
 * one score.
 */
final class Gsm8kAnswers {

    private static final Pattern NUMBER = Pattern.compile("\\d[\\d,]*(?:\\.\\d+)?");
    private static final Pattern ANNOTATION = Pattern.compile("<<[^<>]*>>");
    private static final String MARKER = "####";

    private Gsm8kAnswers() {
    }

    /** The final number of an answer text; empty when it has none. */
    static Optional<BigDecimal> finalNumber(String text) {
        if (text == null) {
            return Optional.empty();
        }
        int marker = text.lastIndexOf(MARKER);
        String s = marker >= 0 ? text.substring(marker + MARKER.length())
                : ANNOTATION.matcher(text).replaceAll(" ");
        s = s.replace("$", "");
        Matcher m = NUMBER.matcher(s);
        int start = -1;
        String found = null;
        while (m.find()) {
            found = m.group();
            start = m.start();
            if (marker >= 0) {
                break; // after the marker the first number is the answer
            }
        }
        if (found == null) {
            return Optional.empty();
        }
        String digits = found.replace(",", "");
        // a minus sign directly before the number, itself at the start or after a space or bracket, makes it
        // negative; "16-7" is a subtraction, not -7
        boolean negative = start >= 1 && s.charAt(start - 1) == '-'
                && (start == 1 || " \t\n(=:".indexOf(s.charAt(start - 2)) >= 0);
        return Optional.of(new BigDecimal(negative ? "-" + digits : digits));
    }

    /** Whether an answer text's final number equals the reference number (a text without a number is wrong). */
    static boolean matches(String answer, BigDecimal reference) {
        return finalNumber(answer).map(n -> n.compareTo(reference) == 0).orElse(false);
    }
}
