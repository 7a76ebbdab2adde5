package dev.tandem.router.dispatch;

import java.util.ArrayList;
import java.util.List;

/** What the router did for one dispatch, one line per event, stamped with the time since the dispatch began. */
public final class DispatchTrace {

    private final long startNanos = System.nanoTime();
    private final List<String> lines = new ArrayList<>();

    public synchronized void add(String line) {
        long ms = (System.nanoTime() - startNanos) / 1_000_000;
        lines.add("+" + ms + "ms " + line);
    }

    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }
}
