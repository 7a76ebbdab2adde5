package dev.tandem.oracle.repository;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import com.google.protobuf.Timestamp;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.Task;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.oracle.v1.TaskState;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The submitted tasks in PostgreSQL ({@code oracle.tasks}, {@code oracle.task_steps}, {@code oracle.task_events}):
 * plain JDBC with auto-commit, every statement one durable transaction. A running task belongs to the replica
 * holding its lease; every write a run makes is fenced on that lease (and on the task still running), so a
 * replica that lost its task (cancelled, or resumed elsewhere after its lease expired) cannot write over it.
 * One class over the three tables because every statement keeps the same two rules: the tenant scopes every
 * read a client makes, and the lease fences every write a run makes.
 */
@ApplicationScoped
public class SubmittedTaskRepository {

    private static final String VIEW = "SELECT t.task_id, t.queue_seq, t.tenant, t.idempotency_key, t.task, t.state, "
            + "t.plan, t.attempts, t.error_code, t.error_message, t.submitted_at, t.started_at, t.finished_at, "
            + "(SELECT count(*) FROM oracle.task_steps s WHERE s.task_id = t.task_id) AS steps_done, "
            + "(SELECT coalesce(max(e.sequence), 0) FROM oracle.task_events e WHERE e.task_id = t.task_id) AS last_seq, "
            + "CASE WHEN t.state = 'QUEUED' THEN (SELECT count(*) FROM oracle.tasks q WHERE q.state = 'QUEUED' "
            + "AND q.queue_seq <= t.queue_seq) ELSE 0 END AS queue_position";

    private final AgroalDataSource dataSource;

    public SubmittedTaskRepository(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** A task to store as QUEUED. */
    public record NewTask(String taskId, String tenant, Optional<String> idempotencyKey, String requestDigest,
                          ExecuteRequest request) {
    }

    /** An earlier submission under the same idempotency key: its task id and the digest of its request. */
    public record EarlierSubmission(String taskId, String requestDigest) {
    }

    /** A task this replica claimed to run: the request, the plan and the steps an earlier run left. */
    public record ClaimedTask(String taskId, ExecuteRequest request, Optional<Plan> plan, double planningUsd,
                              List<StoredStep> completedSteps, long lastSequence, int attempts, Instant submittedAt) {
    }

    /** A completed step as stored. */
    public record StoredStep(StepResult result, double oracleBaselineUsd, double explorationUsd) {
    }

    /** A page of tasks, and the queue sequence the next page starts below, if there is one. */
    public record Page(List<Task> tasks, OptionalLong nextBefore) {
    }

    /**
     * Stores the task as QUEUED, unless its tenant already used its idempotency key: then nothing is stored and
     * the earlier submission is returned.
     */
    public Optional<EarlierSubmission> insert(NewTask task) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("INSERT INTO oracle.tasks (task_id, tenant, idempotency_key, "
                    + "request_digest, request, task, state) VALUES (?, ?, ?, ?, ?, ?, 'QUEUED') "
                    + "ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING")) {
                ps.setString(1, task.taskId());
                ps.setString(2, task.tenant());
                ps.setString(3, task.idempotencyKey().orElse(null));
                ps.setString(4, task.requestDigest());
                ps.setBytes(5, task.request().toByteArray());
                ps.setString(6, task.request().getTask());
                if (ps.executeUpdate() == 1) {
                    return Optional.empty();
                }
            }
            try (var ps = c.prepareStatement("SELECT task_id, request_digest FROM oracle.tasks "
                    + "WHERE tenant = ? AND idempotency_key = ?")) {
                ps.setString(1, task.tenant());
                ps.setString(2, task.idempotencyKey().orElseThrow());
                try (var rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("idempotency key conflict without a stored task");
                    }
                    return Optional.of(new EarlierSubmission(rs.getString(1), rs.getString(2)));
                }
            }
        });
    }

    /** The tenant's task with its completed steps (in plan order) and, when it succeeded, its response. */
    public Optional<Task> find(String taskId, String tenant) {
        return withConnection(c -> {
            Task.Builder task;
            try (var ps = c.prepareStatement(VIEW + ", t.response FROM oracle.tasks t "
                    + "WHERE t.task_id = ? AND t.tenant = ?")) {
                ps.setString(1, taskId);
                ps.setString(2, tenant);
                try (var rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    task = view(rs);
                    var response = rs.getBytes("response");
                    if (response != null) {
                        task.setResponse(parse(ExecuteResponse.parser(), response));
                    }
                }
            }
            var steps = steps(c, taskId);
            var order = new ArrayList<String>();
            task.getPlan().getStepsList().forEach(s -> order.add(s.getId()));
            steps.stream().map(StoredStep::result)
                    .sorted((a, b) -> Integer.compare(order.indexOf(a.getStepId()), order.indexOf(b.getStepId())))
                    .forEach(task::addSteps);
            return Optional.of(task.build());
        });
    }

    /** The tenant's tasks, newest first, below a queue sequence (exclusive) when one is given. */
    public Page list(String tenant, Optional<TaskState> state, OptionalLong before, int limit) {
        return withConnection(c -> {
            var sql = new StringBuilder(VIEW).append(" FROM oracle.tasks t WHERE t.tenant = ?");
            state.ifPresent(s -> sql.append(" AND t.state = ?"));
            before.ifPresent(b -> sql.append(" AND t.queue_seq < ?"));
            sql.append(" ORDER BY t.queue_seq DESC LIMIT ?");
            try (var ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                ps.setString(i++, tenant);
                if (state.isPresent()) {
                    ps.setString(i++, name(state.get()));
                }
                if (before.isPresent()) {
                    ps.setLong(i++, before.getAsLong());
                }
                ps.setInt(i, limit + 1);
                var tasks = new ArrayList<Task>();
                long lastSeq = 0;
                boolean more = false;
                try (var rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (tasks.size() == limit) {
                            more = true;
                            break;
                        }
                        tasks.add(view(rs).build());
                        lastSeq = rs.getLong("queue_seq");
                    }
                }
                return new Page(tasks, more ? OptionalLong.of(lastSeq) : OptionalLong.empty());
            }
        });
    }

    /**
     * Cancels the tenant's task if it is queued or running; true when this call cancelled it. Its lease goes
     * with it: the replica running it finds out at its next lease renewal or write and stops.
     */
    public boolean cancel(String taskId, String tenant) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("UPDATE oracle.tasks SET state = 'CANCELLED', finished_at = now(), "
                    + "error_code = 'CANCELLED', error_message = 'cancelled by its client', lease_owner = NULL, "
                    + "lease_until = NULL WHERE task_id = ? AND tenant = ? AND state IN ('QUEUED', 'RUNNING')")) {
                ps.setString(1, taskId);
                ps.setString(2, tenant);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * Claims the oldest task that is queued, or running under an expired lease (its replica died), for
     * {@code owner}: {@code FOR UPDATE SKIP LOCKED}, so replicas claiming at once never get the same task.
     */
    public Optional<ClaimedTask> claimNext(String owner, Duration lease) {
        return withConnection(c -> {
            String taskId;
            ExecuteRequest request;
            Optional<Plan> plan;
            double planningUsd;
            int attempts;
            Instant submittedAt;
            try (var ps = c.prepareStatement("WITH next AS (SELECT task_id FROM oracle.tasks "
                    + "WHERE state = 'QUEUED' OR (state = 'RUNNING' AND lease_until < now()) "
                    + "ORDER BY queue_seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
                    + "UPDATE oracle.tasks t SET state = 'RUNNING', lease_owner = ?, "
                    + "lease_until = now() + make_interval(secs => ?), attempts = t.attempts + 1, "
                    + "started_at = coalesce(t.started_at, now()) FROM next WHERE t.task_id = next.task_id "
                    + "RETURNING t.task_id, t.request, t.plan, t.planning_usd, t.attempts, t.submitted_at")) {
                ps.setString(1, owner);
                ps.setDouble(2, lease.toMillis() / 1000.0);
                try (var rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    taskId = rs.getString(1);
                    request = parse(ExecuteRequest.parser(), rs.getBytes(2));
                    var planBytes = rs.getBytes(3);
                    plan = planBytes == null ? Optional.empty() : Optional.of(parse(Plan.parser(), planBytes));
                    planningUsd = rs.getDouble(4);
                    attempts = rs.getInt(5);
                    submittedAt = rs.getTimestamp(6).toInstant();
                }
            }
            return Optional.of(new ClaimedTask(taskId, request, plan, planningUsd, steps(c, taskId),
                    lastSequence(c, taskId), attempts, submittedAt));
        });
    }

    /**
     * Renews the owner's leases on its running tasks; returns those of them it no longer holds (cancelled, or
     * resumed elsewhere), which it must stop.
     */
    public Set<String> renewLeases(String owner, Collection<String> taskIds, Duration lease) {
        if (taskIds.isEmpty()) {
            return Set.of();
        }
        return withConnection(c -> {
            try (var ps = c.prepareStatement("UPDATE oracle.tasks SET lease_until = now() + make_interval(secs => ?) "
                    + "WHERE task_id = ANY (?) AND lease_owner = ? AND state = 'RUNNING' RETURNING task_id")) {
                ps.setDouble(1, lease.toMillis() / 1000.0);
                ps.setArray(2, c.createArrayOf("text", taskIds.toArray()));
                ps.setString(3, owner);
                var lost = new HashSet<>(taskIds);
                try (var rs = ps.executeQuery()) {
                    while (rs.next()) {
                        lost.remove(rs.getString(1));
                    }
                }
                return lost;
            }
        });
    }

    /** Hands a running task back to the queue at once (its replica is stopping); false when it was not its own. */
    public boolean release(String taskId, String owner) {
        return fencedUpdate("UPDATE oracle.tasks SET state = 'QUEUED', lease_owner = NULL, lease_until = NULL "
                + "WHERE task_id = ? AND lease_owner = ? AND state = 'RUNNING'", taskId, owner);
    }

    /** Stores the validated plan of the owner's running task; false when the task is no longer its own. */
    public boolean savePlan(String taskId, String owner, Plan plan, double planningUsd) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("UPDATE oracle.tasks SET plan = ?, planning_usd = ? "
                    + "WHERE task_id = ? AND lease_owner = ? AND state = 'RUNNING'")) {
                ps.setBytes(1, plan.toByteArray());
                ps.setDouble(2, planningUsd);
                ps.setString(3, taskId);
                ps.setString(4, owner);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Stores a completed step of the owner's running task; false when the task is no longer its own. */
    public boolean saveStep(String taskId, String owner, StoredStep step) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("INSERT INTO oracle.task_steps (task_id, step_id, result, "
                    + "oracle_baseline_usd, exploration_usd) SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM "
                    + "oracle.tasks WHERE task_id = ? AND lease_owner = ? AND state = 'RUNNING') "
                    + "ON CONFLICT (task_id, step_id) DO NOTHING")) {
                ps.setString(1, taskId);
                ps.setString(2, step.result().getStepId());
                ps.setBytes(3, step.result().toByteArray());
                ps.setDouble(4, step.oracleBaselineUsd());
                ps.setDouble(5, step.explorationUsd());
                ps.setString(6, taskId);
                ps.setString(7, owner);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * Stores one event of the owner's running task (a replay of a stored sequence is ignored); false, and nothing
     * stored, when the task is no longer its own: a stale run's events would take the sequence numbers of the run
     * that resumed the task.
     */
    public boolean appendEvent(TaskEvent event, String owner) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("WITH owned AS (SELECT task_id FROM oracle.tasks WHERE task_id = ? "
                    + "AND lease_owner = ? AND state = 'RUNNING'), stored AS (INSERT INTO oracle.task_events "
                    + "(task_id, sequence, event) SELECT task_id, ?, ? FROM owned ON CONFLICT DO NOTHING) "
                    + "SELECT count(*) FROM owned")) {
                ps.setString(1, event.getTaskId());
                ps.setString(2, owner);
                ps.setLong(3, event.getSequence());
                ps.setBytes(4, event.toByteArray());
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1) == 1;
                }
            }
        });
    }

    /** The task's events after a sequence, in order, at most {@code limit}. */
    public List<TaskEvent> events(String taskId, long afterSequence, int limit) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("SELECT event FROM oracle.task_events WHERE task_id = ? "
                    + "AND sequence > ? ORDER BY sequence LIMIT ?")) {
                ps.setString(1, taskId);
                ps.setLong(2, afterSequence);
                ps.setInt(3, limit);
                var out = new ArrayList<TaskEvent>();
                try (var rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(parse(TaskEvent.parser(), rs.getBytes(1)));
                    }
                }
                return out;
            }
        });
    }

    /** The state of a task, whoever's it is (for a watcher that already checked the tenant). */
    public Optional<TaskState> state(String taskId) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("SELECT state FROM oracle.tasks WHERE task_id = ?")) {
                ps.setString(1, taskId);
                try (var rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(stateOf(rs.getString(1))) : Optional.empty();
                }
            }
        });
    }

    /** Ends the owner's running task as SUCCEEDED with its response; false when it is no longer its own. */
    public boolean succeed(String taskId, String owner, ExecuteResponse response) {
        return finish(taskId, owner, "SUCCEEDED", response, null, null);
    }

    /**
     * Stores a task's answer event and ends the owner's running task as SUCCEEDED with that answer, in one statement:
     * a watcher that has seen the answer finds the task ended. False (and nothing stored) when the task is no longer
     * the owner's.
     */
    public boolean succeedAnnouncing(TaskEvent done, String owner) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("WITH ended AS (UPDATE oracle.tasks SET state = 'SUCCEEDED', "
                    + "response = ?, error_code = NULL, error_message = NULL, finished_at = now(), "
                    + "lease_owner = NULL, lease_until = NULL "
                    + "WHERE task_id = ? AND lease_owner = ? AND state = 'RUNNING' RETURNING task_id), "
                    + "announced AS (INSERT INTO oracle.task_events (task_id, sequence, event) SELECT task_id, ?, ? "
                    + "FROM ended ON CONFLICT DO NOTHING) SELECT count(*) FROM ended")) {
                ps.setBytes(1, done.getTaskDone().getResponse().toByteArray());
                ps.setString(2, done.getTaskId());
                ps.setString(3, owner);
                ps.setLong(4, done.getSequence());
                ps.setBytes(5, done.toByteArray());
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1) == 1;
                }
            }
        });
    }

    /** Ends the owner's running task as FAILED; false when it is no longer its own. */
    public boolean fail(String taskId, String owner, String errorCode, String errorMessage) {
        return finish(taskId, owner, "FAILED", null, errorCode, errorMessage);
    }

    /**
     * Deletes up to {@code limit} tasks that finished before {@code cutoff} (their steps and events go with them);
     * returns how many. Queued and running tasks are never deleted, however old.
     */
    public int deleteFinishedBefore(Instant cutoff, int limit) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("DELETE FROM oracle.tasks WHERE task_id IN (SELECT task_id FROM "
                    + "oracle.tasks WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND finished_at < ? "
                    + "LIMIT ?)")) {
                ps.setObject(1, cutoff.atOffset(ZoneOffset.UTC)); // timestamptz
                ps.setInt(2, limit);
                return ps.executeUpdate();
            }
        });
    }

    /** Tasks by state (every state, 0 when none). */
    public Map<TaskState, Long> countByState() {
        return withConnection(c -> {
            var counts = new LinkedHashMap<TaskState, Long>();
            for (var s : TaskState.values()) {
                if (s != TaskState.TASK_STATE_UNSPECIFIED && s != TaskState.UNRECOGNIZED) {
                    counts.put(s, 0L);
                }
            }
            try (var st = c.createStatement();
                 var rs = st.executeQuery("SELECT state, count(*) FROM oracle.tasks GROUP BY state")) {
                while (rs.next()) {
                    counts.put(stateOf(rs.getString(1)), rs.getLong(2));
                }
            }
            return counts;
        });
    }

    private boolean finish(String taskId, String owner, String state, ExecuteResponse response, String errorCode,
            String errorMessage) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement("UPDATE oracle.tasks SET state = ?, response = ?, error_code = ?, "
                    + "error_message = ?, finished_at = now(), lease_owner = NULL, lease_until = NULL "
                    + "WHERE task_id = ? AND lease_owner = ? AND state = 'RUNNING'")) {
                ps.setString(1, state);
                if (response == null) {
                    ps.setNull(2, Types.BINARY);
                } else {
                    ps.setBytes(2, response.toByteArray());
                }
                ps.setString(3, errorCode);
                ps.setString(4, errorMessage == null ? null : storable(errorMessage));
                ps.setString(5, taskId);
                ps.setString(6, owner);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * Text PostgreSQL can store: it refuses U+0000, which a failure message may quote from the request (a pipeline
     * name, say). Refused, the failure could not be stored, the run was taken for a store outage and the task was
     * resumed and failed again at every lease expiry, for ever.
     */
    static String storable(String text) {
        return text.replace('\u0000', '\uFFFD');
    }

    private boolean fencedUpdate(String sql, String taskId, String owner) {
        return withConnection(c -> {
            try (var ps = c.prepareStatement(sql)) {
                ps.setString(1, taskId);
                ps.setString(2, owner);
                return ps.executeUpdate() == 1;
            }
        });
    }

    private static List<StoredStep> steps(Connection c, String taskId) throws SQLException {
        try (var ps = c.prepareStatement("SELECT result, oracle_baseline_usd, exploration_usd FROM oracle.task_steps "
                + "WHERE task_id = ? ORDER BY completed_at")) {
            ps.setString(1, taskId);
            var out = new ArrayList<StoredStep>();
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new StoredStep(parse(StepResult.parser(), rs.getBytes(1)), rs.getDouble(2),
                            rs.getDouble(3)));
                }
            }
            return out;
        }
    }

    private static long lastSequence(Connection c, String taskId) throws SQLException {
        try (var ps = c.prepareStatement("SELECT coalesce(max(sequence), 0) FROM oracle.task_events "
                + "WHERE task_id = ?")) {
            ps.setString(1, taskId);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static Task.Builder view(ResultSet rs) throws SQLException {
        var task = Task.newBuilder().setTaskId(rs.getString("task_id")).setTenant(rs.getString("tenant"))
                .setTask(rs.getString("task")).setState(stateOf(rs.getString("state")))
                .setAttempts(rs.getInt("attempts")).setStepsDone(rs.getInt("steps_done"))
                .setLastSequence(rs.getLong("last_seq")).setQueuePosition(rs.getLong("queue_position"));
        var key = rs.getString("idempotency_key");
        if (key != null) {
            task.setIdempotencyKey(key);
        }
        var plan = rs.getBytes("plan");
        if (plan != null) {
            var p = parse(Plan.parser(), plan);
            task.setPlan(p).setStepsTotal(p.getStepsCount());
        }
        if (rs.getString("error_code") != null) {
            task.setErrorCode(rs.getString("error_code")).setErrorMessage(rs.getString("error_message"));
        }
        timestamp(rs, "submitted_at").ifPresent(task::setSubmittedAt);
        timestamp(rs, "started_at").ifPresent(task::setStartedAt);
        timestamp(rs, "finished_at").ifPresent(task::setFinishedAt);
        return task;
    }

    private static Optional<Timestamp> timestamp(ResultSet rs, String column) throws SQLException {
        var t = rs.getTimestamp(column);
        if (t == null) {
            return Optional.empty();
        }
        var i = t.toInstant();
        return Optional.of(Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build());
    }

    /** The stored name of a state: QUEUED, RUNNING, ... */
    public static String name(TaskState state) {
        return state.name().substring("TASK_STATE_".length());
    }

    private static TaskState stateOf(String stored) {
        return TaskState.valueOf("TASK_STATE_" + stored);
    }

    private static <T> T parse(Parser<T> parser, byte[] bytes) {
        try {
            return parser.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a stored message does not parse: " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T withConnection(SqlWork<T> work) {
        try (Connection connection = dataSource.getConnection()) {
            return work.run(connection);
        } catch (SQLException e) {
            throw new TaskStoreUnavailableException("the task store failed: " + e.getMessage(), e);
        }
    }
}
