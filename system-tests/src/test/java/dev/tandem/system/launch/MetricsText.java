package dev.tandem.system.launch;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the samples of a service's {@code /q/metrics} page (Prometheus text format, and OpenMetrics as Quarkus
 * writes it with tracing on). A sample line is {@code name{labels} value [timestamp] [# {exemplar labels} value
 * [timestamp]]}: with tracing on, counters and timers carry an exemplar (the trace of their last sample) after the
 * value, so the value is the first field after the label set, not the line's last (that is the exemplar's timestamp,
 * seconds since the epoch).
 */
public final class MetricsText {

    private MetricsText() {
    }

    /** One sample: the metric name, its label set as written between the braces (empty without), its value. */
    public record Sample(String name, String labels, double value) {
    }

    /** The samples of an exposition page, comments and blank lines skipped. */
    public static List<Sample> samples(String exposition) {
        var out = new ArrayList<Sample>();
        for (var line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            out.add(sample(line));
        }
        return out;
    }

    /** The sum of the samples of metric {@code name} whose label set contains {@code labels} (all when empty). */
    public static double sum(String exposition, String name, String labels) {
        double sum = 0;
        for (var s : samples(exposition)) {
            if (s.name().equals(name) && s.labels().contains(labels)) {
                sum += s.value();
            }
        }
        return sum;
    }

    /** Parses one sample line. */
    static Sample sample(String line) {
        int brace = line.indexOf('{');
        int space = line.indexOf(' ');
        String name;
        String labels = "";
        int rest;
        if (brace >= 0 && (space < 0 || brace < space)) {
            name = line.substring(0, brace);
            int end = labelSetEnd(line, brace);
            labels = line.substring(brace + 1, end);
            rest = end + 1;
        } else {
            name = line.substring(0, space);
            rest = space;
        }
        var fields = line.substring(rest).strip().split("\\s+");
        return new Sample(name, labels, Double.parseDouble(fields[0]));
    }

    /** Where the label set opened at {@code open} closes; a brace inside a quoted value does not count. */
    private static int labelSetEnd(String line, int open) {
        boolean quoted = false;
        for (int i = open + 1; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '\\') {
                i++; // an escaped character inside a value
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == '}' && !quoted) {
                return i;
            }
        }
        throw new IllegalArgumentException("unterminated label set: " + line);
    }
}
