package dev.tandem.oracle.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tasks {@code bin/demo} streams: the bundled {@code sample-tasks.json} next to this class (written by
 * {@code bin/gen-sample-tasks.py}) or a file of the same shape. The file is
 * {@code {"tasks": [{"id", "kind", "task", "inputs": {...}}, ..., {"split": "..."}, ...]}}: the tasks above the
 * first {@code split} entry are the demo's default stream, all of them the benchmark's (without a split, all).
 *
 * @param tasks every task, in order
 * @param demoCount how many of the first tasks make the demo's default stream
 */
public record SampleTasks(List<SampleTask> tasks, int demoCount) {

    /** The bundled file's name, a resource next to this class. */
    static final String RESOURCE = "sample-tasks.json";

    /**
     * One task as the client sends it.
     *
     * @param id stable name, e.g. {@code sample-042}
     * @param kind what it is (triage, summary, extraction, sentiment); informative, not sent
     * @param task the task text, from which the oracle plans
     * @param inputs the task's inputs, e.g. {@code document}
     */
    public record SampleTask(String id, String kind, String task, Map<String, String> inputs) {
    }

    public SampleTasks {
        tasks = List.copyOf(tasks);
    }

    /** The bundled tasks. */
    public static SampleTasks bundled() {
        try (var in = SampleTasks.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundled " + RESOURCE + " is missing from the class path");
            }
            return parse(in, RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tasks from a file of the bundled file's shape. */
    public static SampleTasks read(Path file) {
        try (var in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static SampleTasks parse(InputStream in, String source) throws IOException {
        JsonNode root = new ObjectMapper().readTree(in);
        JsonNode entries = root == null ? null : root.get("tasks");
        if (entries == null || !entries.isArray()) {
            throw new IllegalArgumentException(source + ": expected an object with a \"tasks\" array");
        }
        var tasks = new ArrayList<SampleTask>();
        int demoCount = -1;
        for (JsonNode e : entries) {
            if (e.has("split")) {
                if (demoCount < 0) {
                    demoCount = tasks.size();
                }
                continue;
            }
            String where = source + " tasks[" + tasks.size() + "]";
            if (!e.path("task").isTextual() || e.path("task").asText().isBlank()) {
                throw new IllegalArgumentException(where + ": \"task\" must be a non-empty string");
            }
            var inputs = new LinkedHashMap<String, String>();
            e.path("inputs").properties().forEach(kv -> inputs.put(kv.getKey(), kv.getValue().asText()));
            tasks.add(new SampleTask(e.path("id").asText("task-" + (tasks.size() + 1)), e.path("kind").asText(""),
                    e.get("task").asText(), Map.copyOf(inputs)));
        }
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException(source + ": no tasks");
        }
        return new SampleTasks(tasks, demoCount < 0 ? tasks.size() : demoCount);
    }

    /** The demo's default stream: the tasks above the split. */
    public List<SampleTask> demoStream() {
        return tasks.subList(0, demoCount);
    }

    /** The first {@code n} tasks; past the end the list starts again, so a long run repeats tasks. */
    public List<SampleTask> first(int n) {
        var out = new ArrayList<SampleTask>(n);
        for (int i = 0; i < n; i++) {
            out.add(tasks.get(i % tasks.size()));
        }
        return out;
    }
}
