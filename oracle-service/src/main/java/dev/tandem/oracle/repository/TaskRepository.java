package dev.tandem.oracle.repository;

import dev.tandem.oracle.config.OracleConfig;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Recent tasks, in memory and bounded ({@code tandem.oracle.tasks.retained}): an operator's view of what just
 * ran, not a store of record (the audit ledger is that).
 */
@ApplicationScoped
public class TaskRepository {

    private final OracleConfig config;

    private final Map<String, TaskRecord> tasks = new LinkedHashMap<>();

    public TaskRepository(OracleConfig config) {
        this.config = config;
    }

    public synchronized void save(TaskRecord record) {
        tasks.put(record.taskId(), record);
        var it = tasks.keySet().iterator();
        while (tasks.size() > config.tasks().retained() && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    public synchronized void update(String taskId, UnaryOperator<TaskRecord> change) {
        tasks.computeIfPresent(taskId, (id, r) -> change.apply(r));
    }

    public synchronized Optional<TaskRecord> find(String taskId) {
        return Optional.ofNullable(tasks.get(taskId));
    }

    /** The most recent tasks, newest first; only the tenant's when a tenant is given. */
    public synchronized List<TaskRecord> recent(int limit, String tenant) {
        var all = new ArrayList<>(tasks.values());
        var out = new ArrayList<TaskRecord>();
        for (int i = all.size() - 1; i >= 0 && out.size() < limit; i--) {
            if (tenant == null || all.get(i).tenant().equals(tenant)) {
                out.add(all.get(i));
            }
        }
        return out;
    }
}
