package dev.tandem.worker.service;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recomputes the explicit calculations of a worked solution: GSM8K-style annotations ({@code <<48/2=24>>}) and
 * plain statements ({@code 48 / 2 = 24}, chains {@code 2 + 1/2 = 5/2 = 2.5}, units and labels between the
 * numbers: {@code 14 hours/week * $10/hour = $140}, {@code 60 (first month) + 180 = 240}, and labelled lines such
 * as {@code Speed = 60 miles / 6 hours} followed by {@code Speed = 10 miles per hour}). Equations with unknowns
 * ({@code 2S + 30 = 110}), LaTeX and prose arithmetic ("half of 10") are skipped, not guessed.
 * <p>
 * Written by hand: no library extracts arithmetic statements from prose; the expression grammar is the usual
 * precedence climbing over + - * / ^ and parentheses. A stated result agrees with the computed one at the
 * precision it is written in (3.33 for 10/3), or within a relative tolerance; with a percent sign on either
 * side, a factor of 100 is allowed ({@code (12/20) * 100% = 60%}).
 * <p>
 * Long on purpose: the tokenizer, the unit absorption, the statement finder and the evaluator work on one token
 * type and are tested as one gate ({@code ArithmeticCheckTests}); none is used on its own.
 */
public final class ArithmeticCheck {

    private static final Pattern TOKEN = Pattern.compile(
            "(?<ann><<[^<>]*>>)"
                    + "|(?<var>\\d+(?:\\.\\d+)?[A-Za-z_]\\w*)"
                    + "|(?<num>(?:\\$\\s?)?(?:\\d{1,3}(?:,\\d{3})+(?!\\d)|\\d+)(?:\\.\\d+)?%?|\\$?\\.\\d+%?)"
                    + "|(?<op>\\*\\*|[+\\-*/×÷^−–])"
                    + "|(?<lp>\\()|(?<rp>\\))|(?<eq>=)"
                    + "|(?<word>[A-Za-z][A-Za-z'’]*)"
                    + "|(?<sp>[ \\t]+)"
                    + "|(?<other>[\\s\\S])");
    /** Possessive blanks: two greedy runs around the optional '$' tried every split of a long run of blanks. */
    private static final Pattern FINAL_MARKER = Pattern.compile(
            "####\\s*+\\$?\\s*+(-?(?:\\d{1,3}(?:,\\d{3})+(?!\\d)(?:\\.\\d+)?|\\d+(?:\\.\\d+)?))");
    private static final Pattern NUMBER = Pattern.compile("\\d{1,3}(?:,\\d{3})+(?!\\d)(?:\\.\\d+)?|\\d+(?:\\.\\d+)?");
    private static final Pattern ANNOTATION = Pattern.compile("<<[^<>]*>>");

    private ArithmeticCheck() {
    }

    enum Kind { ANN, VAR, NUM, OP, LP, RP, EQ, WORD, BREAK }

    record Token(Kind kind, String text, int position) {
    }

    /**
     * One calculation found in the text.
     *
     * @param expression the calculation as written, normalised
     * @param computed   the value of its left side
     * @param stated     the value the text gives
     * @param holds      whether the two agree
     * @param percent    whether a percent sign takes part (the final-answer comparison allows a factor of 100)
     * @param position   character offset in the text
     */
    public record Calculation(String expression, double computed, double stated, boolean holds, boolean percent,
                              int position) {
        /** The calculation and, when wrong, its correct value. */
        public String describe() {
            return holds ? expression : expression + " (computes to " + format(computed) + ")";
        }
    }

    /** Every calculation of a text, in order of appearance. */
    public static List<Calculation> calculations(String text, double relativeTolerance) {
        var out = new ArrayList<Calculation>();
        var normalised = text.replace("\\*", "*").replace("\\_", "_");
        var tokens = tokens(normalised);
        for (var t : tokens) {
            if (t.kind() == Kind.ANN) {
                annotation(t, relativeTolerance).ifPresent(out::add);
            }
        }
        // An annotation is a barrier for the plain scan: "2 x 1 hour = <<2*60=120>>120" is checked as annotated.
        var plain = new ArrayList<Token>(tokens.size());
        for (var t : tokens) {
            plain.add(t.kind() == Kind.ANN ? new Token(Kind.BREAK, "", t.position()) : t);
        }
        statements(absorbUnits(plain), relativeTolerance, out);
        out.sort(Comparator.comparingInt(Calculation::position));
        return out;
    }

    /** The final answer: the number after {@code ####}, else the last number of the text (annotations ignored). */
    public static OptionalDouble finalAnswer(String text) {
        Matcher marker = FINAL_MARKER.matcher(text);
        String last = null;
        while (marker.find()) {
            last = marker.group(1);
        }
        if (last != null) {
            return OptionalDouble.of(Double.parseDouble(last.replace(",", "")));
        }
        var stripped = ANNOTATION.matcher(text).replaceAll(" ");
        Matcher number = NUMBER.matcher(stripped);
        int start = -1;
        while (number.find()) {
            last = number.group();
            start = number.start();
        }
        if (last == null) {
            return OptionalDouble.empty();
        }
        double value = Double.parseDouble(last.replace(",", ""));
        // a minus sign directly before the number, itself after a space or an opening bracket, makes it negative
        boolean negative = start >= 1 && stripped.charAt(start - 1) == '-'
                && (start == 1 || " \t\n(=:".indexOf(stripped.charAt(start - 2)) >= 0);
        return OptionalDouble.of(negative ? -value : value);
    }

    /** Whether two numbers agree within a relative tolerance (at least an absolute 1e-9). */
    public static boolean agree(double a, double b, double relativeTolerance) {
        return Math.abs(a - b) <= Math.max(1e-9, relativeTolerance * Math.max(1, Math.abs(b)));
    }

    /** Whether a final answer agrees with a calculation's result (allowing the factor 100 of a percentage). */
    public static boolean agreesWith(double answer, Calculation calculation, double relativeTolerance) {
        return agree(answer, calculation.stated(), relativeTolerance)
                || calculation.percent() && agree(answer, calculation.stated() * 100, relativeTolerance);
    }

    static List<Token> tokens(String text) {
        var out = new ArrayList<Token>();
        Matcher m = TOKEN.matcher(text);
        while (m.find()) {
            Kind kind;
            String value = m.group();
            if (m.group("ann") != null) {
                kind = Kind.ANN;
            } else if (m.group("var") != null) {
                kind = Kind.VAR;
            } else if (m.group("num") != null) {
                kind = Kind.NUM;
            } else if (m.group("op") != null) {
                kind = Kind.OP;
            } else if (m.group("lp") != null) {
                kind = Kind.LP;
            } else if (m.group("rp") != null) {
                kind = Kind.RP;
            } else if (m.group("eq") != null) {
                kind = Kind.EQ;
            } else if (m.group("word") != null) {
                kind = value.equals("x") || value.equals("X") ? Kind.OP : Kind.WORD;
                if (kind == Kind.OP) {
                    value = "*";
                }
            } else if (m.group("sp") != null) {
                continue;
            } else {
                kind = Kind.BREAK;
            }
            out.add(new Token(kind, value, m.start()));
        }
        return out;
    }

    private static Optional<Calculation> annotation(Token t, double tolerance) {
        var inner = t.text().substring(2, t.text().length() - 2);
        int eq = inner.lastIndexOf('=');
        if (eq < 0) {
            return Optional.empty();
        }
        var left = tokens(inner.substring(0, eq));
        var right = tokens(inner.substring(eq + 1));
        var l = evaluate(left);
        var r = evaluate(right);
        if (l.isEmpty() || r.isEmpty()) {
            return Optional.empty();
        }
        boolean percent = hasPercent(left) || hasPercent(right);
        String stated = right.size() == 1 ? right.getFirst().text() : null;
        return Optional.of(new Calculation(t.text(), l.getAsDouble(), r.getAsDouble(),
                holds(l.getAsDouble(), r.getAsDouble(), stated, percent, tolerance), percent, t.position()));
    }

    /** Drops unit words, "/unit" and "(label)" after a number when an operator, '=' or ')' follows them. */
    static List<Token> absorbUnits(List<Token> tokens) {
        var out = new ArrayList<Token>(tokens.size());
        int i = 0;
        int n = tokens.size();
        while (i < n) {
            var t = tokens.get(i);
            boolean afterValue = !out.isEmpty() && (out.getLast().kind() == Kind.NUM || out.getLast().kind() == Kind.RP);
            boolean unitStart = t.kind() == Kind.WORD || t.kind() == Kind.LP
                    || t.text().equals("/") && i + 1 < n && tokens.get(i + 1).kind() == Kind.WORD;
            if (afterValue && unitStart) {
                int j = i;
                int words = 0;
                while (j < n && words < 6) {
                    var u = tokens.get(j);
                    if (u.kind() == Kind.WORD) {
                        j++;
                        words++;
                    } else if (u.text().equals("/") && j + 1 < n && tokens.get(j + 1).kind() == Kind.WORD) {
                        j += 2;
                        words++;
                    } else if (u.kind() == Kind.LP) {
                        int m = j + 1;
                        while (m < n && (tokens.get(m).kind() == Kind.WORD || tokens.get(m).text().equals("'")
                                || tokens.get(m).text().equals("’"))) {
                            m++;
                        }
                        if (m < n && m > j + 1 && tokens.get(m).kind() == Kind.RP) {
                            j = m + 1;
                            words++;
                        } else {
                            break;
                        }
                    } else {
                        break;
                    }
                }
                if (j > i && j < n && (tokens.get(j).kind() == Kind.OP || tokens.get(j).kind() == Kind.EQ
                        || tokens.get(j).kind() == Kind.RP)) {
                    i = j;
                    continue;
                }
            }
            out.add(t);
            i++;
        }
        return out;
    }

    private record Run(List<Token> tokens, Token stop) {
    }

    private static void statements(List<Token> tokens, double tolerance, List<Calculation> out) {
        var runs = new ArrayList<Run>();
        var current = new ArrayList<Token>();
        for (var t : tokens) {
            switch (t.kind()) {
                case NUM, OP, LP, RP, EQ -> current.add(t);
                default -> {
                    runs.add(new Run(List.copyOf(current), t));
                    current.clear();
                }
            }
        }
        runs.add(new Run(List.copyOf(current), null));

        // labelled statements: "Total cost = 3 * 4" ... "Total cost = 12"
        var labelled = new HashMap<String, List<Token>>();
        for (int ri = 0; ri < runs.size(); ri++) {
            var run = runs.get(ri);
            var parts = new ArrayList<List<Token>>();
            parts.add(new ArrayList<>());
            for (var t : run.tokens()) {
                if (t.kind() == Kind.EQ) {
                    parts.add(new ArrayList<>());
                } else {
                    parts.getLast().add(t);
                }
            }
            if (parts.size() < 2) {
                continue;
            }
            Token previousStop = ri > 0 ? runs.get(ri - 1).stop() : null;
            boolean endsInUnknown = unknown(run.stop());
            boolean startsAfterUnknown = unknown(previousStop);

            var left = parts.getFirst();
            while (!left.isEmpty() && left.getFirst().kind() == Kind.LP && evaluate(left).isEmpty()) {
                left = left.subList(1, left.size());
            }
            OptionalDouble leftValue = !left.isEmpty() && left.getFirst().kind() != Kind.OP && !startsAfterUnknown
                    ? evaluate(left) : OptionalDouble.empty();
            String label = parts.getFirst().isEmpty() && previousStop != null && previousStop.kind() == Kind.WORD
                    && !startsAfterUnknown ? previousStop.text().toLowerCase(Locale.ROOT) : null;

            for (int j = 1; j < parts.size(); j++) {
                boolean last = j == parts.size() - 1;
                var part = parts.get(j);
                List<Token> right;
                OptionalDouble rightValue;
                if (!last) {
                    right = part;
                    rightValue = evaluate(part);
                } else {
                    right = longestPrefix(part);
                    rightValue = right.isEmpty() ? OptionalDouble.empty() : evaluate(right);
                    if (right.size() != part.size() || endsInUnknown) {
                        rightValue = OptionalDouble.empty();
                    }
                }
                if (label != null && j == 1 && rightValue.isPresent()) {
                    if (hasOperator(right)) {
                        labelled.put(label, right);
                    } else if (labelled.containsKey(label)) {
                        var expression = labelled.remove(label);
                        var computed = evaluate(expression).getAsDouble();
                        boolean percent = hasPercent(expression) || hasPercent(right);
                        out.add(new Calculation(label + ": " + text(expression) + " = " + text(right), computed,
                                rightValue.getAsDouble(), holds(computed, rightValue.getAsDouble(),
                                right.getFirst().text(), percent, tolerance), percent, expression.getFirst().position()));
                    }
                }
                if (leftValue.isPresent() && rightValue.isPresent() && hasOperator(left)) {
                    boolean percent = hasPercent(left) || hasPercent(right);
                    String stated = right.size() == 1 ? right.getFirst().text() : null;
                    out.add(new Calculation(text(left) + " = " + text(right), leftValue.getAsDouble(),
                            rightValue.getAsDouble(), holds(leftValue.getAsDouble(), rightValue.getAsDouble(), stated,
                            percent, tolerance), percent, left.getFirst().position()));
                }
                left = right;
                leftValue = right.size() == part.size() ? rightValue : OptionalDouble.empty();
            }
        }
    }

    /** A variable (2S) or a lone letter (S) next to an equation: it has unknowns, skip it. */
    private static boolean unknown(Token t) {
        return t != null && (t.kind() == Kind.VAR || t.kind() == Kind.WORD && t.text().length() == 1);
    }

    private static List<Token> longestPrefix(List<Token> part) {
        for (int end = part.size(); end > 0; end--) {
            var prefix = part.subList(0, end);
            if (evaluate(prefix).isPresent()) {
                return prefix;
            }
        }
        return List.of();
    }

    private static boolean holds(double computed, double stated, String statedText, boolean percent, double tolerance) {
        if (close(computed, stated, statedText, tolerance)) {
            return true;
        }
        return percent && (close(computed, stated * 100, null, tolerance) || close(computed * 100, stated, null, tolerance));
    }

    /** Agreement at the precision the stated value is written in (3.33 for 3.333...), else relative. */
    private static boolean close(double computed, double stated, String statedText, double tolerance) {
        double allowed = Math.max(1e-9, tolerance * Math.max(1, Math.abs(stated)));
        if (statedText != null) {
            var digits = statedText.replace("$", "").replace(",", "").replace("%", "").strip();
            int dot = digits.indexOf('.');
            int decimals = dot < 0 ? 0 : digits.length() - dot - 1;
            if (Math.abs(computed - Math.rint(computed)) > 1e-9 || decimals > 0) {
                allowed = Math.max(allowed, 0.5 * Math.pow(10, -decimals));
            }
        }
        return Math.abs(computed - stated) <= allowed;
    }

    private static boolean hasOperator(List<Token> tokens) {
        return tokens.stream().anyMatch(t -> t.kind() == Kind.OP);
    }

    private static boolean hasPercent(List<Token> tokens) {
        return tokens.stream().anyMatch(t -> t.kind() == Kind.NUM && t.text().endsWith("%"));
    }

    private static String text(List<Token> tokens) {
        var sb = new StringBuilder();
        for (var t : tokens) {
            if (!sb.isEmpty() && t.kind() != Kind.RP && !(sb.charAt(sb.length() - 1) == '(')) {
                sb.append(' ');
            }
            sb.append(t.text().strip());
        }
        return sb.toString();
    }

    static String format(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.6g", value);
    }

    /** The value of an arithmetic expression, empty when the tokens are not one. */
    static OptionalDouble evaluate(List<Token> tokens) {
        if (tokens.isEmpty()) {
            return OptionalDouble.empty();
        }
        var parser = new Parser(tokens);
        try {
            double v = parser.expression();
            if (parser.position != tokens.size() || !Double.isFinite(v)) {
                return OptionalDouble.empty();
            }
            return OptionalDouble.of(v);
        } catch (IllegalArgumentException | ArithmeticException e) {
            return OptionalDouble.empty();
        }
    }

    /** Precedence climbing: expression = term (+|- term)*, term = factor (*|/ factor)*, factor = -factor | atom [^ factor]. */
    private static final class Parser {
        private final List<Token> tokens;
        private int position;

        Parser(List<Token> tokens) {
            this.tokens = tokens;
        }

        private Token peek() {
            return position < tokens.size() ? tokens.get(position) : null;
        }

        private boolean isOp(String... ops) {
            var t = peek();
            if (t == null || t.kind() != Kind.OP) {
                return false;
            }
            for (var op : ops) {
                if (t.text().equals(op)) {
                    return true;
                }
            }
            return false;
        }

        double expression() {
            double v = term();
            while (isOp("+", "-", "−", "–")) {
                boolean plus = tokens.get(position++).text().equals("+");
                double r = term();
                v = plus ? v + r : v - r;
            }
            return v;
        }

        double term() {
            double v = factor();
            while (isOp("*", "/", "×", "÷")) {
                var op = tokens.get(position++).text();
                double r = factor();
                if (op.equals("*") || op.equals("×")) {
                    v *= r;
                } else {
                    if (r == 0) {
                        throw new ArithmeticException("division by zero");
                    }
                    v /= r;
                }
            }
            return v;
        }

        double factor() {
            if (isOp("-", "−", "–")) {
                position++;
                return -factor();
            }
            var t = peek();
            if (t == null) {
                throw new IllegalArgumentException("unexpected end");
            }
            double base;
            if (t.kind() == Kind.NUM) {
                position++;
                base = number(t.text());
            } else if (t.kind() == Kind.LP) {
                position++;
                base = expression();
                var close = peek();
                if (close == null || close.kind() != Kind.RP) {
                    throw new IllegalArgumentException("unbalanced parenthesis");
                }
                position++;
            } else {
                throw new IllegalArgumentException("unexpected " + t.text());
            }
            if (isOp("^", "**")) {
                position++;
                base = Math.pow(base, factor());
            }
            return base;
        }

        private static double number(String text) {
            var v = text.replace("$", "").replace(",", "").strip();
            boolean percent = v.endsWith("%");
            if (percent) {
                v = v.substring(0, v.length() - 1);
            }
            double x = Double.parseDouble(v);
            return percent ? x / 100 : x;
        }
    }
}
