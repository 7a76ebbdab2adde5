package dev.tandem.models.batch;

import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Groups BATCH-class model calls per model into provider batches and completes each call with its item's result.
 * A call waits in its model's group until {@link BatchSettings#maxItems} calls wait or {@link BatchSettings#maxWait}
 * has passed since the first; the group is then submitted as one batch, polled every
 * {@link BatchSettings#pollInterval}, and when it has ended every item's caller gets its answer. An item whose request
 * errored goes into the model's next batch, up to {@link BatchSettings#retryLimit} times, then its call fails naming
 * the provider's error; an expired (or, by someone else, cancelled) item goes into the next batch as long as its
 * caller's deadline has not passed. A caller that gives up (cancelled, or its deadline passed) leaves its group at
 * once; when every item of a submitted batch was given up the provider batch is cancelled.
 * <p>
 * A call named by its step's idempotency key ({@link ChatRequest#callKey()}) gets an item named after it
 * ({@code custom_id} = {@link #customId}); a call with the key of an item of this coordinator that is still waiting,
 * or was given up by its callers but is still in a running batch (the provider runs and bills it anyway), joins that
 * item instead of adding a second one. The worker's {@code KeyedCalls} joins a repeat before it gets here; this
 * catches the repeat whose first call was reset (its router was stopped) while its item's batch runs on.
 * <p>
 * State is in memory only: a restarted service forgets its batches (the provider still runs and bills them; the
 * caller's retry submits the call again).
 * <p>
 * A little over the usual size: an item's life (waiting in its group, submitted, polled, resubmitted, answered or
 * given up) is one state machine over three small inner types that share the coordinator's timer, executor and
 * listener; the provider's side is {@link BatchApi}.
 */
public final class BatchCoordinator implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(BatchCoordinator.class.getName());

    private final BatchSettings settings;
    private final BatchListener listener;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        var t = new Thread(r, "tandem-batch-timer");
        t.setDaemon(true);
        return t;
    });
    private final ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    /** Items named by a call key, by group and custom_id, while a repeat of the key can still join them. */
    private final Map<String, Pending> keyed = new java.util.HashMap<>();

    public BatchCoordinator(BatchSettings settings, BatchListener listener) {
        this.settings = settings;
        this.listener = listener == null ? BatchListener.NONE : listener;
    }

    public BatchSettings settings() {
        return settings;
    }

    /**
     * One call through the model's batch path: waits until its item's result is in, the caller's deadline passes
     * (TIMEOUT) or the caller cancels (CANCELLED).
     *
     * @throws ModelCallException when the item failed for good, timed out or was cancelled
     */
    public ChatResponse call(String modelId, BatchApi api, ChatRequest request) {
        var groupKey = api.provider() + "/" + modelId;
        var group = groups.computeIfAbsent(groupKey, k -> new Group(modelId, api));
        request.deadline().check(modelId);
        Pending item;
        CompletableFuture<ChatResponse> result;
        boolean add = true;
        synchronized (keyed) {
            var customId = request.callKey().map(BatchCoordinator::customId);
            var kept = customId.map(id -> keyed.get(groupKey + "/" + id)).orElse(null);
            if (kept != null && kept.join()) {
                item = kept;
                add = false;
                LOG.info(() -> "a repeat of call " + request.callKey().orElseThrow() + " joins its " + modelId
                        + " batch item " + kept.customId + (kept.batch != null ? " in batch " + kept.batch.id : ""));
            } else {
                item = new Pending(customId.orElseGet(() -> UUID.randomUUID().toString()), request, group);
                customId.ifPresent(id -> keyed.put(groupKey + "/" + id, item));
            }
            result = item.result;
        }
        var caller = new Caller(item, result);
        try (var registration = request.deadline().onCancel(() -> leave(caller, new ModelCallException(
                Kind.CANCELLED, modelId, request.deadline().cancelled().orElse("the caller gave up"))))) {
            if (add) {
                group.add(item);
            }
            return await(caller, request.deadline());
        }
    }

    /** One caller's wait for an item: its own answer, so that one caller giving up ends no other's wait. */
    private static final class Caller {
        final Pending item;
        final CompletableFuture<ChatResponse> itemResult;
        final CompletableFuture<ChatResponse> answer = new CompletableFuture<>();
        final AtomicBoolean left = new AtomicBoolean();

        Caller(Pending item, CompletableFuture<ChatResponse> itemResult) {
            this.item = item;
            this.itemResult = itemResult;
            itemResult.whenComplete((response, failure) -> {
                if (failure != null) {
                    answer.completeExceptionally(failure);
                } else {
                    answer.complete(response);
                }
            });
        }
    }

    /**
     * The {@code custom_id} of a keyed call's item: URL-safe Base64 of the SHA-256 of its key (43 characters), within
     * every provider's limits (Anthropic: {@code ^[a-zA-Z0-9_-]{1,64}$}) whatever the key holds.
     */
    public static String customId(String callKey) {
        try {
            return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                    java.security.MessageDigest.getInstance("SHA-256").digest(
                            callKey.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A caller stops waiting (once); the last one gives the item up. */
    private void leave(Caller caller, ModelCallException why) {
        if (!caller.left.compareAndSet(false, true)) {
            return;
        }
        boolean last;
        synchronized (keyed) {
            var item = caller.item;
            last = item.result == caller.itemResult && !caller.itemResult.isDone() && --item.waiting == 0;
        }
        caller.answer.completeExceptionally(why);
        if (last) {
            giveUp(caller.item, why);
        }
    }

    private ChatResponse await(Caller caller, CallDeadline deadline) {
        var item = caller.item;
        try {
            var remaining = deadline.remaining();
            var response = remaining.isPresent()
                    ? caller.answer.get(Math.max(1, remaining.get().toNanos()), TimeUnit.NANOSECONDS)
                    : caller.answer.get();
            return new ChatResponse(response.text(), response.finishReason(), response.providerFinishReason(),
                    response.usage(), response.logprobs(), Duration.ofNanos(System.nanoTime() - item.createdNanos),
                    response.providerModel());
        } catch (TimeoutException e) {
            var timeout = new ModelCallException(Kind.TIMEOUT, item.group.modelId, "no batch result before the "
                    + "task's batch deadline (" + item.submissions + " submission(s))");
            leave(caller, timeout);
            throw timeout;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            var cancelled = new ModelCallException(Kind.CANCELLED, item.group.modelId, "interrupted");
            leave(caller, cancelled);
            throw cancelled;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ModelCallException m) {
                throw m;
            }
            throw new ModelCallException(Kind.UNAVAILABLE, item.group.modelId, "batch call failed: " + e.getCause());
        }
    }

    /**
     * No caller waits any more: the item leaves its group, and a batch nobody waits for is cancelled. A keyed item
     * in a batch that runs on stays joinable by a repeat of its key until the batch ends.
     */
    private void giveUp(Pending item, ModelCallException why) {
        InFlight batch;
        synchronized (keyed) {
            item.abandoned = true;
            item.result.completeExceptionally(why);
            batch = item.batch;
            if (batch == null) {
                forget(item);
            }
        }
        item.group.remove(item);
        if (batch != null && batch.allAbandoned() && batch.cancelRequested.compareAndSet(false, true)) {
            synchronized (keyed) {
                batch.items.forEach(this::forget);
            }
            work.execute(() -> {
                try {
                    batch.group.api.cancel(batch.id);
                    LOG.info(() -> "cancelled " + batch.group.api.provider() + " batch " + batch.id + " of "
                            + batch.group.modelId + ": no caller waits for its items any more");
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "could not cancel batch " + batch.id + ": " + e.getMessage());
                }
            });
        }
    }

    private void submit(Group group, List<Pending> items) {
        var live = items.stream().filter(p -> !p.abandoned).toList();
        if (live.isEmpty()) {
            return;
        }
        live.forEach(p -> p.submissions++);
        String id;
        try {
            id = group.api.submit(live.stream().map(p -> new BatchItem(p.customId, p.request)).toList());
        } catch (ModelCallException e) {
            LOG.warning(() -> "submitting a batch of " + live.size() + " " + group.modelId + " calls failed: "
                    + e.getMessage());
            boolean retryable = e.kind() != Kind.BAD_REQUEST && e.kind() != Kind.AUTH;
            live.forEach(p -> retryOrFail(p, "the batch could not be submitted: " + e.getMessage(), retryable));
            return;
        } catch (RuntimeException e) {
            live.forEach(p -> retryOrFail(p, "the batch could not be submitted: " + e, true));
            return;
        }
        var batch = new InFlight(id, group, live);
        live.forEach(p -> p.batch = batch);
        listener.submitted(group.api.provider(), group.modelId, live.size());
        LOG.info(() -> "submitted " + group.api.provider() + " batch " + id + " of " + live.size() + " "
                + group.modelId + " call(s)");
        if (batch.allAbandoned()) {
            giveUp(live.getFirst(), new ModelCallException(Kind.CANCELLED, group.modelId, "the caller gave up"));
        }
        schedulePoll(batch);
    }

    private void schedulePoll(InFlight batch) {
        timer.schedule(() -> work.execute(() -> poll(batch)), settings.pollInterval().toNanos(),
                TimeUnit.NANOSECONDS);
    }

    private void poll(InFlight batch) {
        if (batch.cancelRequested.get()) {
            return; // nobody waits for it
        }
        BatchPoll poll;
        try {
            poll = batch.group.api.poll(batch.id);
        } catch (RuntimeException e) {
            LOG.warning(() -> "polling batch " + batch.id + " failed (" + e.getMessage() + "); polling again");
            schedulePoll(batch);
            return;
        }
        if (!poll.ended()) {
            schedulePoll(batch);
            return;
        }
        int succeeded = 0;
        int errored = 0;
        int expired = 0;
        int cancelled = 0;
        for (var item : batch.items) {
            var result = poll.result(item.customId);
            synchronized (keyed) {
                // an item nobody waits for ends here (a repeat of its key after this point submits a new one);
                // under the lock, so a repeat joining now either revives it before this look or misses it after
                if (item.abandoned) {
                    forget(item);
                    continue;
                }
                if (result instanceof ItemResult.Succeeded) {
                    forget(item);
                }
            }
            switch (result) {
                case ItemResult.Succeeded s -> {
                    succeeded++;
                    item.result.complete(s.response());
                }
                case ItemResult.Errored e -> {
                    errored++;
                    retryOrFail(item, e.message(), e.retryable());
                }
                case ItemResult.Expired x -> {
                    expired++;
                    again(item, "expired in " + batch.group.api.provider() + " batch " + batch.id);
                }
                case ItemResult.Canceled c -> {
                    cancelled++;
                    again(item, "cancelled with " + batch.group.api.provider() + " batch " + batch.id);
                }
                case null -> {
                    errored++;
                    retryOrFail(item, "missing from the results of batch " + batch.id + " (status "
                            + poll.status() + ")", true);
                }
            }
        }
        var turnaround = Duration.ofNanos(System.nanoTime() - batch.submittedNanos);
        listener.ended(batch.group.api.provider(), batch.group.modelId, turnaround, succeeded, errored, expired,
                cancelled);
        int ok = succeeded;
        int bad = errored;
        int late = expired;
        LOG.info(() -> batch.group.api.provider() + " batch " + batch.id + " ended (" + poll.status() + ") after "
                + turnaround.toSeconds() + " s: " + ok + " succeeded, " + bad + " errored, " + late + " expired");
    }

    /** An errored item: into the next batch while its retries last, else its call fails with the error. */
    private void retryOrFail(Pending item, String error, boolean retryable) {
        if (item.abandoned) {
            return;
        }
        if (retryable && item.submissions <= settings.retryLimit()) {
            LOG.info(() -> "batch item of " + item.group.modelId + " errored (" + error + "); submitting it again "
                    + "(retry " + item.submissions + " of " + settings.retryLimit() + ")");
            item.batch = null;
            item.group.add(item);
            return;
        }
        synchronized (keyed) {
            forget(item);
        }
        item.result.completeExceptionally(new ModelCallException(retryable ? Kind.UNAVAILABLE : Kind.BAD_REQUEST,
                item.group.modelId, "batch request failed after " + item.submissions + " submission(s): " + error));
    }

    /** The item is no longer joinable by its key (under the {@code keyed} lock). */
    private void forget(Pending item) {
        keyed.remove(item.group.api.provider() + "/" + item.group.modelId + "/" + item.customId, item);
    }

    /** An expired or cancelled item: into the next batch while its caller's deadline allows, else it times out. */
    private void again(Pending item, String why) {
        if (item.abandoned) {
            return;
        }
        if (item.request.deadline().expired()) {
            synchronized (keyed) {
                forget(item);
            }
            item.result.completeExceptionally(new ModelCallException(Kind.TIMEOUT, item.group.modelId,
                    why + ", and the task's batch deadline has passed"));
            return;
        }
        LOG.info(() -> "batch item of " + item.group.modelId + " " + why + "; submitting it again");
        item.batch = null;
        item.group.add(item);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        work.shutdownNow();
        groups.values().forEach(Group::failAll);
    }

    /** The calls of one model waiting for the next batch. */
    private final class Group {
        final String modelId;
        final BatchApi api;
        private final List<Pending> waiting = new ArrayList<>();
        private ScheduledFuture<?> flush;

        Group(String modelId, BatchApi api) {
            this.modelId = modelId;
            this.api = api;
        }

        void add(Pending item) {
            List<Pending> full = null;
            synchronized (this) {
                waiting.add(item);
                if (waiting.size() >= settings.maxItems()) {
                    full = take();
                } else if (flush == null) {
                    flush = timer.schedule(this::flush, settings.maxWait().toNanos(), TimeUnit.NANOSECONDS);
                }
            }
            if (full != null) {
                var items = full;
                work.execute(() -> submit(this, items));
            }
        }

        synchronized void remove(Pending item) {
            waiting.remove(item);
        }

        void flush() {
            List<Pending> items;
            synchronized (this) {
                flush = null;
                items = take();
            }
            if (!items.isEmpty()) {
                work.execute(() -> submit(this, items));
            }
        }

        /** Up to maxItems waiting calls; the rest wait for the next flush. */
        private List<Pending> take() {
            if (flush != null) {
                flush.cancel(false);
                flush = null;
            }
            int n = Math.min(waiting.size(), settings.maxItems());
            var items = new ArrayList<>(waiting.subList(0, n));
            waiting.subList(0, n).clear();
            if (!waiting.isEmpty()) {
                flush = timer.schedule(this::flush, settings.maxWait().toNanos(), TimeUnit.NANOSECONDS);
            }
            return items;
        }

        synchronized void failAll() {
            waiting.forEach(p -> p.result.completeExceptionally(new ModelCallException(Kind.UNAVAILABLE, modelId,
                    "the service is stopping")));
            waiting.clear();
        }
    }

    /** One call waiting for its batch result, with the callers waiting on it (a keyed call's repeats join it). */
    private static final class Pending {
        final String customId;
        final ChatRequest request;
        final Group group;
        volatile CompletableFuture<ChatResponse> result = new CompletableFuture<>();
        final long createdNanos = System.nanoTime();
        volatile int submissions;
        volatile boolean abandoned;
        volatile InFlight batch;
        int waiting = 1;

        Pending(String customId, ChatRequest request, Group group) {
            this.customId = customId;
            this.request = request;
            this.group = group;
        }

        /**
         * A repeat of the item's key joins it (under the coordinator's {@code keyed} lock): one more caller while
         * it is waited for, or, given up but still in a running batch, waited for again. False when it cannot be
         * joined (finished, or given up before it was submitted).
         */
        boolean join() {
            if (!abandoned) {
                if (result.isDone()) {
                    return false;
                }
                waiting++;
                return true;
            }
            var in = batch;
            if (in == null || in.cancelRequested.get()) {
                return false;
            }
            abandoned = false;
            waiting = 1;
            result = new CompletableFuture<>();
            return true;
        }
    }

    /** A submitted batch. */
    private static final class InFlight {
        final String id;
        final Group group;
        final List<Pending> items;
        final long submittedNanos = System.nanoTime();
        final AtomicBoolean cancelRequested = new AtomicBoolean();

        InFlight(String id, Group group, List<Pending> items) {
            this.id = id;
            this.group = group;
            this.items = List.copyOf(items);
        }

        boolean allAbandoned() {
            for (var p : items) {
                if (!p.abandoned) {
                    return false;
                }
            }
            return true;
        }
    }
}
