package dev.tandem.oracle.cli;

import dev.tandem.oracle.cli.StreamTally.Row;
import dev.tandem.oracle.cli.StreamTally.Totals;
import dev.tandem.oracle.cli.StreamTally.Window;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/** Renders the demo's stream view: the per-block table, the progress bar and the closing summary. Pure text. */
final class StreamReport {

    private static final String ROW = "  %-9s %6s %6s %9s %7s %11s %12s %14s %9s %11s";

    private StreamReport() {
    }

    static List<String> header() {
        return List.of(
                String.format(Locale.ROOT, "  %-9s %6s %6s %17s %11s %12s %14s %21s", "", "", "", "oracle reviewed",
                        "", "", "", "actual / all-oracle"),
                String.format(Locale.ROOT, ROW, "tasks", "failed", "steps", "blocking", "shadow", "escalations",
                        "actual USD", "all-oracle USD", "block", "cumulative"));
    }

    static String row(Row row) {
        Totals b = row.block();
        return String.format(Locale.ROOT, ROW, b.first() + "-" + b.last(), b.failed(), b.steps(),
                percent(b.blockingShare()), percent(b.shadowShare()), b.escalations(), usd(b.actualUsd()),
                usd(b.allOracleUsd()), percent(b.costRatio()), percent(row.cumulative().costRatio()));
    }

    /**
     * The closing lines: the whole stream's figures, the last block's when there was more than one, and the
     * dearest window of consecutive tasks when the stream was long enough to have one.
     */
    static String summary(Totals all, Row lastRow, Window dearest, Duration elapsed) {
        var s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%d tasks (%d failed), %d steps in %s: the oracle reviewed %s of the "
                        + "steps blocking and %s in the shadow, %d escalated;%n  cost %s USD actual vs %s USD "
                        + "all-oracle = %s", all.tasks(), all.failed(), all.steps(), duration(elapsed),
                percent(all.blockingShare()).strip(), percent(all.shadowShare()).strip(), all.escalations(),
                usd(all.actualUsd()), usd(all.allOracleUsd()), percent(all.costRatio()).strip()));
        if (lastRow != null && lastRow.index() > 1) {
            s.append(String.format(Locale.ROOT, "; the last block (tasks %d-%d) %s", lastRow.block().first(),
                    lastRow.block().last(), percent(lastRow.block().costRatio()).strip()));
        }
        s.append('.');
        if (dearest != null) {
            s.append(String.format(Locale.ROOT, "%n  The dearest %d consecutive tasks (%d-%d) cost %s of all-oracle.",
                    dearest.tasks(), dearest.first(), dearest.last(), percent(dearest.costRatio()).strip()));
        }
        return s.toString();
    }

    /** A progress bar such as {@code [##########..........]  50/100 tasks  1m02s, about 1m02s left}. */
    static String progress(int done, int total, Duration elapsed, int width) {
        int filled = total == 0 ? width : (int) ((long) done * width / total);
        var s = new StringBuilder("  [").append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
        int digits = String.valueOf(total).length();
        s.append(String.format(Locale.ROOT, "%" + digits + "d/%d tasks  %s", done, total, duration(elapsed)));
        if (done > 0 && done < total) {
            var left = elapsed.multipliedBy(total - done).dividedBy(done);
            s.append(", about ").append(duration(left)).append(" left");
        }
        return s.toString();
    }

    static String percent(double fraction) {
        return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%.1f %%", 100 * fraction);
    }

    /** Nominal offline prices are fractions of a cent: enough places to compare blocks. */
    static String usd(double usd) {
        return String.format(Locale.ROOT, "%.6f", usd);
    }

    static String duration(Duration d) {
        long s = d.toSeconds();
        return s < 60 ? s + "s" : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
