package dev.tandem.oracle.service;

import com.google.protobuf.CodedOutputStream;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.grpc.TrailerBudget;
import dev.tandem.oracle.client.RouterClient;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.repository.SubmittedTaskRepository;
import dev.tandem.oracle.repository.SubmittedTaskRepository.NewTask;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ListTasksResponse;
import dev.tandem.proto.oracle.v1.SubmitTaskResponse;
import dev.tandem.proto.oracle.v1.Task;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.oracle.v1.TaskState;
import io.grpc.Context;
import io.grpc.Status;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The submitted tasks of the public API: accepted into the store at once (idempotent per tenant and key), read,
 * listed, watched and cancelled, always within the caller's tenant (another tenant's task is NOT_FOUND, as if it
 * did not exist). {@link TaskQueueWorker} runs them.
 */
@ApplicationScoped
public class SubmittedTasks {

    static final int MAX_KEY_CHARS = 200;
    static final int DEFAULT_PAGE = 50;
    static final int MAX_PAGE = 500;
    private static final String TOKEN_PREFIX = "tasks-before:";
    private static final Pattern TASK_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    /** PostgreSQL text cannot hold U+0000: without this check the store's refusal read as an outage (UNAVAILABLE). */
    private static final String NUL = "contains U+0000 (NUL), which the task store cannot hold";

    private final SubmittedTaskRepository store;
    private final TaskQueueWorker worker;
    private final TaskSignals signals;
    private final TaskRequestBounds bounds;
    private final PlanValidator validator;
    private final OracleConfig config;
    private final RouterClient router;

    public SubmittedTasks(SubmittedTaskRepository store, TaskQueueWorker worker, TaskSignals signals,
            TaskRequestBounds bounds, PlanValidator validator, OracleConfig config, RouterClient router) {
        this.router = router;
        this.store = store;
        this.worker = worker;
        this.signals = signals;
        this.bounds = bounds;
        this.validator = validator;
        this.config = config;
    }

    /**
     * Accepts a task for the tenant the request names (already the caller's). A client plan is validated now, so a
     * bad one is refused at once; a task to be planned is planned when it runs.
     */
    public SubmitTaskResponse submit(ExecuteRequest request, boolean hasRequest, String idempotencyKey) {
        var violations = new ArrayList<FieldViolation>();
        if (!hasRequest) {
            violations.add(new FieldViolation("request", "the request is missing: send the task to run"));
        } else if (request.getTask().isBlank() && request.getPlan().getStepsCount() == 0) {
            violations.add(new FieldViolation("request.task", "the task is empty: describe the task or send a plan"));
        } else if (request.getTask().indexOf('\u0000') >= 0) {
            violations.add(new FieldViolation("request.task", NUL + " (Execute, which stores nothing, takes it)"));
        }
        if (idempotencyKey.length() > MAX_KEY_CHARS) {
            violations.add(new FieldViolation("idempotency_key", "at most " + MAX_KEY_CHARS + " characters, not "
                    + idempotencyKey.length()));
        } else if (idempotencyKey.indexOf('\u0000') >= 0) {
            violations.add(new FieldViolation("idempotency_key", NUL));
        }
        if (!violations.isEmpty()) {
            throw new InvalidTaskException(violations.getFirst().description(), violations);
        }
        bounds.check(request);
        if (request.getPlan().getStepsCount() > 0) {
            validator.validate(request.getPlan(), request.getInputsMap(), null);
        }
        // any non-empty key is one: a key of blanks taken for none made a retried submission a second task
        var key = idempotencyKey.isEmpty() ? Optional.<String>empty() : Optional.of(idempotencyKey);
        var digest = digest(request);
        var taskId = UUID.randomUUID().toString();
        var earlier = store.insert(new NewTask(taskId, request.getTenant(), key, digest, request));
        if (earlier.isPresent()) {
            if (!earlier.get().requestDigest().equals(digest)) {
                throw Status.ALREADY_EXISTS.withDescription("idempotency key '" + idempotencyKey + "' was already "
                        + "used for a different request (task " + earlier.get().taskId() + "); use a new key for a "
                        + "new request").asRuntimeException();
            }
            return SubmitTaskResponse.newBuilder().setTask(get(earlier.get().taskId(), request.getTenant()))
                    .setExisting(true).build();
        }
        signals.taskQueued();
        return SubmitTaskResponse.newBuilder().setTask(get(taskId, request.getTenant())).build();
    }

    /** The tenant's task, NOT_FOUND when it has none of that id. */
    public Task get(String taskId, String tenant) {
        requireTaskId(taskId);
        requireTenant(tenant);
        return store.find(taskId, tenant).orElseThrow(() -> notFound(taskId));
    }

    /** A page of the tenant's tasks, newest first. */
    public ListTasksResponse list(String tenant, TaskState state, int pageSize, String pageToken) {
        requireTenant(tenant);
        var violations = new ArrayList<FieldViolation>();
        if (pageSize < 0 || pageSize > MAX_PAGE) {
            violations.add(new FieldViolation("page_size", "between 0 (for " + DEFAULT_PAGE + ") and " + MAX_PAGE
                    + ", not " + pageSize));
        }
        if (state == TaskState.UNRECOGNIZED) {
            violations.add(new FieldViolation("state", "not a known task state"));
        }
        OptionalLong before = OptionalLong.empty();
        if (!pageToken.isEmpty()) {
            before = decodeToken(pageToken);
            if (before.isEmpty()) {
                violations.add(new FieldViolation("page_token", "not a page token of ListTasks: pass the "
                        + "next_page_token of the previous page unchanged"));
            }
        }
        if (!violations.isEmpty()) {
            throw new InvalidTaskException(violations.getFirst().description(), violations);
        }
        var page = store.list(tenant, state == TaskState.TASK_STATE_UNSPECIFIED ? Optional.empty()
                : Optional.of(state), before, pageSize == 0 ? DEFAULT_PAGE : pageSize);
        var response = ListTasksResponse.newBuilder().addAllTasks(page.tasks());
        page.nextBefore().ifPresent(seq -> response.setNextPageToken(encodeToken(seq)));
        return response.build();
    }

    /**
     * Cancels the tenant's queued or running task: it stays CANCELLED. A task running here stops at once, one
     * running on another replica at that replica's next lease renewal (a third of the lease at most).
     */
    public Task cancel(String taskId, String tenant) {
        requireTaskId(taskId);
        requireTenant(tenant);
        if (store.cancel(taskId, tenant)) {
            worker.stopLocally(taskId);
            // the task's keyed router calls run on when their caller goes away (so that a resumed run collects
            // them): a cancel has to say so to the router
            router.cancelCalls(taskId, tenant);
            signals.taskChanged(taskId);
            return get(taskId, tenant);
        }
        var task = get(taskId, tenant);
        if (task.getState() == TaskState.TASK_STATE_CANCELLED) {
            return task; // cancelling twice is cancelling once
        }
        throw Status.FAILED_PRECONDITION.withDescription("task " + taskId + " already ended as "
                + SubmittedTaskRepository.name(task.getState()) + "; only a queued or running task can be cancelled")
                .asRuntimeException();
    }

    /**
     * Sends the task's events after {@code afterSequence}, then its live events until it ends: normally after its
     * task-done event; with its error status when it failed; with CANCELLED when it was cancelled. Returns early
     * when the caller cancels the call.
     */
    public void watch(String taskId, String tenant, long afterSequence, Consumer<TaskEvent> sink) {
        requireTaskId(taskId);
        if (afterSequence < 0) {
            throw InvalidTaskException.of("after_sequence", "0 or more, not " + afterSequence);
        }
        get(taskId, tenant); // the tenant's, or NOT_FOUND
        var signal = signals.subscribe(taskId);
        try {
            long last = afterSequence;
            while (true) {
                var batch = store.events(taskId, last, 200);
                for (var event : batch) {
                    sink.accept(event);
                    last = event.getSequence();
                    if (event.hasTaskDone()) {
                        return;
                    }
                }
                if (batch.size() == 200) {
                    continue;
                }
                if (Context.current().isCancelled()) {
                    return; // the caller went away
                }
                var state = store.state(taskId).orElseThrow(() -> notFound(taskId));
                if (ended(state)) {
                    // the events a run emits are stored before its end: whatever arrived since the read above
                    for (var event : store.events(taskId, last, Integer.MAX_VALUE)) {
                        sink.accept(event);
                        if (event.hasTaskDone()) {
                            return;
                        }
                    }
                    if (state == TaskState.TASK_STATE_SUCCEEDED) {
                        return; // the client had seen the task-done event already
                    }
                    var task = get(taskId, tenant);
                    if (state == TaskState.TASK_STATE_CANCELLED) {
                        throw Status.CANCELLED.withDescription("task " + taskId + " was cancelled")
                                .asRuntimeException();
                    }
                    throw failure(task);
                }
                TaskSignals.await(signal, config.tasks().submitted().watchPollInterval());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } finally {
            signals.unsubscribe(taskId, signal);
        }
    }

    private static boolean ended(TaskState state) {
        return state == TaskState.TASK_STATE_SUCCEEDED || state == TaskState.TASK_STATE_FAILED
                || state == TaskState.TASK_STATE_CANCELLED;
    }

    private static RuntimeException failure(Task task) {
        Status.Code code;
        try {
            code = Status.Code.valueOf(task.getErrorCode());
        } catch (IllegalArgumentException e) {
            code = Status.Code.INTERNAL;
        }
        // the stored message may quote the request at any length (an unknown pipeline's name, say)
        return Status.fromCode(code).withDescription(TrailerBudget.description(task.getErrorMessage()))
                .asRuntimeException();
    }

    /**
     * A task id SubmitTask could have returned (a UUID; the pattern leaves room). Anything else names no task, and
     * is refused before it reaches the store (which cannot hold U+0000) or a NOT_FOUND that would quote it (a long
     * one outgrew the trailers a client accepts); it is not quoted here either.
     */
    private static void requireTaskId(String taskId) {
        if (taskId.isBlank()) {
            throw InvalidTaskException.of("task_id", "the task id is missing");
        }
        if (!TASK_ID.matcher(taskId).matches()) {
            throw InvalidTaskException.of("task_id", "not a task id: pass the task_id SubmitTask returned (a UUID)");
        }
    }

    /** The caller's tenant as SubmitTask accepts it (with auth=none it is the request's, unchecked so far). */
    private static void requireTenant(String tenant) {
        if (!TaskRequestBounds.TENANT.matcher(tenant).matches()) {
            throw InvalidTaskException.of("tenant", "a tenant is at most 128 letters, digits, '.', '-' or '_'");
        }
    }

    private static RuntimeException notFound(String taskId) {
        return Status.NOT_FOUND.withDescription("no task " + taskId + " for this tenant").asRuntimeException();
    }

    static String encodeToken(long queueSeq) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((TOKEN_PREFIX + queueSeq).getBytes(StandardCharsets.UTF_8));
    }

    static OptionalLong decodeToken(String token) {
        try {
            var text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            if (!text.startsWith(TOKEN_PREFIX)) {
                return OptionalLong.empty();
            }
            long seq = Long.parseLong(text.substring(TOKEN_PREFIX.length()));
            return seq > 0 ? OptionalLong.of(seq) : OptionalLong.empty();
        } catch (IllegalArgumentException e) { // not base64, or not a number
            return OptionalLong.empty();
        }
    }

    /** SHA-256 of the request's deterministic encoding (map entries in key order). */
    static String digest(ExecuteRequest request) {
        try {
            var bytes = new ByteArrayOutputStream();
            var out = CodedOutputStream.newInstance(bytes);
            out.useDeterministicSerialization();
            request.writeTo(out);
            out.flush();
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
