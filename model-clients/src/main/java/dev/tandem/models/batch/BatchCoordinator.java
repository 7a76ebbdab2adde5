package dev.tandem.models.batch;

import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
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
import java.util.function.BiFunction;
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
 * Every batch is written to a {@link BatchJournal} as an intent (its items under a journal id of ours) before the
 * provider is asked to create it, named by that id at the provider where it keeps one ({@link BatchApi#submit}), given
 * its batch id once created and before it is first polled, and closed when it ends with the answers of its keyed
 * items. A create whose answer is lost (a timeout, a reset connection) is looked up at the provider by the journal id
 * ({@link BatchApi#find}) before its items are submitted again; an intent a stopped service left behind (a crash
 * between the create and the journal update) is resolved the same way when the journal is claimed: the batch it made
 * is polled on, an intent that made none is closed. A restarted service {@linkplain #resume resumes} the batches its journal holds
 * open: it polls them on, a repeat of a key whose item is in one joins that item (no new provider item), and the
 * answers of items nobody asked for again are collected and recorded; a repeat after the batch ended gets the
 * recorded answer. Reloaded items nobody has asked for since are not "given up": they do not count towards
 * cancelling their batch. With the in-memory journal a restart forgets everything, as before the journal.
 * <p>
 * Over the usual size: an item's life (waiting in its group, submitted, journaled, polled, resubmitted, answered,
 * given up, or reloaded after a restart) is one state machine over three small inner types that share the
 * coordinator's timer, executor, listener and the lock on the keyed items; splitting the resumption off would split
 * that lock. The provider's side is {@link BatchApi}, the durable side {@link BatchJournal}.
 */
public final class BatchCoordinator implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(BatchCoordinator.class.getName());

    private final BatchSettings settings;
    private final BatchListener listener;
    private final BatchJournal journal;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        var t = new Thread(r, "tandem-batch-timer");
        t.setDaemon(true);
        return t;
    });
    private final ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    /** Items named by a call key, by group and custom_id, while a repeat of the key can still join them. */
    private final Map<String, Pending> keyed = new java.util.HashMap<>();
    /** The batches this coordinator polls, by provider and batch id (a claim of the journal skips them). */
    private final Map<String, InFlight> polled = new ConcurrentHashMap<>();
    /** The journal ids of the intents whose create this coordinator is making (a claim of the journal skips them). */
    private final java.util.Set<String> creating = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean resuming = new AtomicBoolean();
    private volatile boolean closed;

    /** A coordinator with an in-memory journal: a restart forgets its batches. */
    public BatchCoordinator(BatchSettings settings, BatchListener listener) {
        this(settings, listener, BatchJournal.inMemory(Duration.ofMinutes(15)));
    }

    public BatchCoordinator(BatchSettings settings, BatchListener listener, BatchJournal journal) {
        this.settings = settings;
        this.listener = listener == null ? BatchListener.NONE : listener;
        this.journal = journal;
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
        var customId = request.callKey().map(BatchCoordinator::customId);
        var digest = BatchJournal.requestDigest(request);
        var joined = customId.flatMap(id -> join(groupKey, id, request, digest));
        if (customId.isPresent() && joined.isEmpty()) {
            // not in a batch this coordinator knows: its batch may have ended (here or before a restart); an item
            // ends after its answer is journaled, so a repeat that no longer finds the item finds the answer
            var recorded = recordedAnswer(api, modelId, customId.get(), digest);
            if (recorded.isPresent()) {
                LOG.info(() -> "a repeat of call " + request.callKey().orElseThrow() + " is answered from the "
                        + "journal's record of its " + modelId + " batch item " + customId.get());
                listener.answeredFromJournal(api.provider(), modelId);
                return recorded.get();
            }
        }
        Pending item;
        CompletableFuture<ChatResponse> result;
        boolean add = true;
        synchronized (keyed) {
            // joined at first look, or by another repeat's item made meanwhile
            var again = joined.isPresent() ? joined : customId.flatMap(id -> join(groupKey, id, request, digest));
            if (again.isPresent()) {
                item = again.get();
                add = false;
            } else {
                item = new Pending(customId.orElseGet(() -> UUID.randomUUID().toString()), customId.isPresent(),
                        digest, BatchItem.Form.of(request), request, group);
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

    /** The keyed item a repeat joins, if one can be joined (the same request, not finished). */
    private Optional<Pending> join(String groupKey, String customId, ChatRequest request, String digest) {
        synchronized (keyed) {
            var kept = keyed.get(groupKey + "/" + customId);
            if (kept == null) {
                return Optional.empty();
            }
            if (!kept.digest.equals(digest)) {
                LOG.warning(() -> "call " + request.callKey().orElseThrow() + " asks for another request than its "
                        + "batch item " + customId + ": not joined, submitted as a call of its own");
                return Optional.empty();
            }
            if (!kept.join(request)) {
                return Optional.empty();
            }
            LOG.info(() -> "a repeat of call " + request.callKey().orElseThrow() + " joins its "
                    + kept.group.modelId + " batch item " + customId
                    + (kept.batch != null ? " in batch " + kept.batch.id : ""));
            return Optional.of(kept);
        }
    }

    private Optional<ChatResponse> recordedAnswer(BatchApi api, String modelId, String customId, String digest) {
        try {
            return journal.answer(api.provider(), modelId, customId, digest);
        } catch (RuntimeException e) {
            journalFailed("answer", e);
            return Optional.empty();
        }
    }

    private void journalFailed(String operation, RuntimeException e) {
        LOG.log(Level.WARNING, "the batch journal failed (" + operation + "): " + e.getMessage()
                + "; going on with what this process holds in memory", e);
        listener.journalFailed(operation);
    }

    /**
     * Polls on the batches the journal holds open and this coordinator does not poll yet: at start, those an earlier
     * run left; then, every poll interval, those of a replica whose claim lapsed (a shared journal). {@code apis}
     * gives the batch API of a provider and model id, empty when the model has no batch path here (its batches stay
     * open in the journal, and a warning names them).
     */
    public void resume(BiFunction<String, String, Optional<BatchApi>> apis) {
        if (!resuming.compareAndSet(false, true)) {
            throw new IllegalStateException("the batch coordinator resumes its journal once");
        }
        claim(apis);
        timer.scheduleWithFixedDelay(() -> work.execute(() -> claim(apis)), settings.pollInterval().toNanos(),
                settings.pollInterval().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void claim(BiFunction<String, String, Optional<BatchApi>> apis) {
        List<BatchJournal.Batch> open;
        try {
            open = journal.claimOpen();
        } catch (RuntimeException e) {
            journalFailed("claim", e);
            return;
        }
        try {
            journal.prune();
        } catch (RuntimeException e) {
            journalFailed("prune", e);
        }
        for (var journaled : open) {
            if (journaled.intent() ? ownCreate(journaled.journalId())
                    : polled.containsKey(journaled.provider() + "/" + journaled.batchId())) {
                continue;
            }
            var api = apis.apply(journaled.provider(), journaled.modelId());
            if (api.isEmpty() || !api.get().provider().equals(journaled.provider())) {
                LOG.warning(() -> journaled.provider() + (journaled.intent() ? " batch intent " + journaled.journalId()
                        : " batch " + journaled.batchId()) + " of model " + journaled.modelId() + " is open in the "
                        + "journal, but the model has no " + journaled.provider() + " batch path here: not polled "
                        + "(it stays open in the journal)");
                continue;
            }
            if (journaled.intent()) {
                resolve(journaled, api.get());
            } else {
                resume(journaled, api.get());
            }
        }
    }

    /** An intent whose create this coordinator is making, or made and polls. */
    private boolean ownCreate(String journalId) {
        return creating.contains(journalId) || polled.values().stream().anyMatch(b -> journalId.equals(b.journalId));
    }

    /**
     * An intent left open by a service that stopped between the create and the journal update (or whose create
     * answer was lost and whose lookup failed): the provider says whether the create made a batch. If it did, the
     * batch is polled on like any reloaded one; if not, the intent is closed and its items are submitted again when a
     * repeat asks for them (they were never paid). A provider that cannot look batches up leaves it unknown: closed,
     * with a warning, as the journal's limit.
     */
    private void resolve(BatchJournal.Batch intent, BatchApi api) {
        var what = api.provider() + " batch intent " + intent.journalId() + " of " + intent.items().size() + " "
                + intent.modelId() + " call(s) (written " + intent.submittedAt() + ")";
        if (!api.canFind()) {
            LOG.warning(() -> what + " has no batch id: the service stopped between the create and the journal "
                    + "update, and " + api.provider() + " cannot look a batch up by our journal id; closed, its items "
                    + "are submitted again when asked for (if the create made a batch, the provider bills both)");
            notCreated(api.provider(), intent.journalId());
            listener.intentResolved(api.provider(), intent.modelId(), "unknown");
            return;
        }
        Optional<String> found;
        try {
            found = api.find(intent.journalId(), intent.submittedAt());
        } catch (RuntimeException e) {
            LOG.warning(() -> "looking up " + what + " failed (" + e.getMessage() + "); trying again at the next "
                    + "claim");
            return;
        }
        if (ownCreate(intent.journalId())) {
            return; // made here meanwhile
        }
        if (found.isEmpty()) {
            LOG.info(() -> what + ": the provider lists no batch under it (the service stopped before the create); "
                    + "closed, its items are submitted again when asked for");
            notCreated(api.provider(), intent.journalId());
            listener.intentResolved(api.provider(), intent.modelId(), "not_created");
            return;
        }
        var batchId = found.get();
        try {
            journal.created(api.provider(), intent.journalId(), batchId);
        } catch (RuntimeException e) {
            journalFailed("created", e);
        }
        LOG.info(() -> what + " was created as batch " + batchId + " before the service stopped: polled on");
        listener.intentResolved(api.provider(), intent.modelId(), "created");
        resume(intent.created(batchId), api);
    }

    private void notCreated(String provider, String journalId) {
        try {
            journal.notCreated(provider, journalId);
        } catch (RuntimeException e) {
            journalFailed("not_created", e);
        }
    }

    private void resume(BatchJournal.Batch journaled, BatchApi api) {
        var groupKey = api.provider() + "/" + journaled.modelId();
        var group = groups.computeIfAbsent(groupKey, k -> new Group(journaled.modelId(), api));
        var items = journaled.items().stream().map(i -> new Pending(i.customId(), i.keyed(), i.requestDigest(),
                i.form(), null, group)).toList();
        var batch = new InFlight(journaled.batchId(), journaled.journalId(), group, items);
        synchronized (keyed) {
            for (var item : items) {
                item.batch = batch;
                item.submissions = 1;
                if (item.keyed) {
                    keyed.putIfAbsent(groupKey + "/" + item.customId, item);
                }
            }
        }
        polled.put(api.provider() + "/" + batch.id, batch);
        listener.resumed(api.provider(), journaled.modelId(), items.size());
        if (items.stream().noneMatch(i -> i.keyed)) {
            // no caller can ever ask for an unkeyed item again: what has not run yet need not be paid
            LOG.info(() -> "resumed " + api.provider() + " batch " + batch.id + " of " + journaled.modelId()
                    + " has no keyed item: cancelling it");
            cancel(batch, "none of its items can be asked for again");
            return;
        }
        LOG.info(() -> "resumed " + api.provider() + " batch " + batch.id + " of " + items.size() + " "
                + journaled.modelId() + " call(s) from the journal (submitted " + journaled.submittedAt() + ")");
        schedulePoll(batch);
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
        if (batch != null && batch.allAbandoned()) {
            cancel(batch, "no caller waits for its items any more");
        }
    }

    /** Cancels a batch at its provider (once) and closes it in the journal. */
    private void cancel(InFlight batch, String why) {
        // a stopping service leaves its batches to the next start (they are open in the journal)
        if (closed || !batch.cancelRequested.compareAndSet(false, true)) {
            return;
        }
        synchronized (keyed) {
            batch.items.forEach(this::forget);
        }
        work.execute(() -> {
            try {
                batch.group.api.cancel(batch.id);
                LOG.info(() -> "cancelled " + batch.group.api.provider() + " batch " + batch.id + " of "
                        + batch.group.modelId + ": " + why);
            } catch (RuntimeException e) {
                // left open in the journal: the next start polls it again and collects what it ran
                LOG.log(Level.WARNING, "could not cancel batch " + batch.id + ": " + e.getMessage());
                return;
            }
            try {
                journal.ended(batch.group.api.provider(), batch.id, BatchJournal.End.CANCELLED, Map.of());
            } catch (RuntimeException e) {
                journalFailed("ended", e);
            }
            // closed in the journal first: a claim in between would otherwise take it up again
            polled.remove(batch.group.api.provider() + "/" + batch.id);
        });
    }

    private void submit(Group group, List<Pending> items) {
        var live = items.stream().filter(p -> !p.abandoned).toList();
        if (live.isEmpty()) {
            return;
        }
        live.forEach(p -> p.submissions++);
        var provider = group.api.provider();
        var intent = new BatchJournal.Batch(provider, group.modelId, UUID.randomUUID().toString(), null,
                live.stream().map(p -> new BatchJournal.Item(p.customId, p.keyed, p.digest, p.form)).toList(),
                java.time.Instant.now());
        var journalId = intent.journalId();
        InFlight batch;
        creating.add(journalId);
        try {
            // journaled before the create: a crash from here on leaves an intent that a restart resolves with the
            // provider (the batch it made is polled on) instead of losing a paid batch and paying for its items again
            try {
                journal.intended(intent);
            } catch (RuntimeException e) {
                journalFailed("intended", e);
            }
            String id;
            try {
                id = group.api.submit(journalId, live.stream().map(p -> new BatchItem(p.customId, p.request))
                        .toList());
            } catch (RuntimeException e) {
                Optional<String> made;
                if (refused(e)) {
                    notCreated(provider, journalId);
                    made = Optional.empty();
                } else {
                    made = lookUp(group, intent, e);
                }
                if (made.isEmpty()) {
                    LOG.warning(() -> "submitting a batch of " + live.size() + " " + group.modelId + " calls failed: "
                            + e.getMessage());
                    boolean retryable = !(e instanceof ModelCallException m)
                            || m.kind() != Kind.BAD_REQUEST && m.kind() != Kind.AUTH;
                    live.forEach(p -> retryOrFail(p, "the batch could not be submitted: "
                            + (e instanceof ModelCallException ? e.getMessage() : e.toString()), retryable));
                    return;
                }
                id = made.get();
            }
            batch = new InFlight(id, journalId, group, live);
            var created = batch;
            live.forEach(p -> p.batch = created);
            // known as polled here before its id is in the journal, so this coordinator's own claim never resumes it
            polled.put(provider + "/" + id, batch);
            // its batch id journaled before it is first polled: a restart from here on polls it on
            try {
                journal.created(provider, journalId, id);
            } catch (RuntimeException e) {
                journalFailed("created", e);
            }
        } finally {
            creating.remove(journalId);
        }
        listener.submitted(group.api.provider(), group.modelId, live.size());
        LOG.info(() -> "submitted " + group.api.provider() + " batch " + batch.id + " of " + live.size() + " "
                + group.modelId + " call(s)");
        if (batch.allAbandoned()) {
            giveUp(live.getFirst(), new ModelCallException(Kind.CANCELLED, group.modelId, "the caller gave up"));
        }
        schedulePoll(batch);
    }

    /** The provider answered the create with a refusal (4xx, 429): it made no batch. */
    private static boolean refused(RuntimeException e) {
        return e instanceof ModelCallException m && (m.kind() == Kind.BAD_REQUEST || m.kind() == Kind.AUTH
                || m.kind() == Kind.RATE_LIMITED);
    }

    /**
     * A create whose answer was lost (a timeout, a reset connection, a 5xx): the batch it may have made, looked up at
     * the provider by the intent's journal id. Empty when the provider lists none (the intent is closed, its items go
     * into the next batch) or cannot look batches up (the same, and the provider may bill both); when the lookup
     * fails, the intent stays open for a later claim to resolve while the items go into the next batch.
     */
    private Optional<String> lookUp(Group group, BatchJournal.Batch intent, RuntimeException createFailure) {
        var provider = group.api.provider();
        if (!group.api.canFind()) {
            LOG.warning(() -> "the create of a " + provider + " batch of " + group.modelId + " failed ("
                    + createFailure.getMessage() + ") and " + provider + " cannot say whether it made a batch: its "
                    + "items are submitted again (if it did, the provider bills both)");
            notCreated(provider, intent.journalId());
            return Optional.empty();
        }
        try {
            var found = group.api.find(intent.journalId(), intent.submittedAt());
            if (found.isPresent()) {
                LOG.info(() -> "the create of a " + provider + " batch of " + group.modelId + " failed ("
                        + createFailure.getMessage() + "), but it made batch " + found.get() + ": polled");
            } else {
                notCreated(provider, intent.journalId());
            }
            return found;
        } catch (RuntimeException e) {
            LOG.warning(() -> "the create of a " + provider + " batch of " + group.modelId + " failed and looking it "
                    + "up failed too (" + e.getMessage() + "): intent " + intent.journalId() + " stays open for the "
                    + "next claim to resolve");
            return Optional.empty();
        }
    }

    private void schedulePoll(InFlight batch) {
        try {
            timer.schedule(() -> work.execute(() -> poll(batch)), settings.pollInterval().toNanos(),
                    TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the service is stopping: the batch stays open in the journal for the next start
            if (!closed) {
                throw e;
            }
        }
    }

    private void poll(InFlight batch) {
        if (batch.cancelRequested.get()) {
            return; // nobody waits for it
        }
        BatchPoll poll;
        try {
            poll = batch.group.api.poll(batch.id, batch.forms());
        } catch (RuntimeException e) {
            LOG.warning(() -> "polling batch " + batch.id + " failed (" + e.getMessage() + "); polling again");
            schedulePoll(batch);
            return;
        }
        if (!poll.ended()) {
            schedulePoll(batch);
            return;
        }
        // the keyed answers are journaled before their items end here: a repeat that no longer finds its item (below)
        // finds its answer in the journal
        var answers = new HashMap<String, ChatResponse>();
        for (var item : batch.items) {
            if (item.keyed && poll.result(item.customId) instanceof ItemResult.Succeeded s) {
                answers.put(item.customId, s.response());
            }
        }
        try {
            journal.ended(batch.group.api.provider(), batch.id, BatchJournal.End.ENDED, answers);
        } catch (RuntimeException e) {
            journalFailed("ended", e);
        }
        polled.remove(batch.group.api.provider() + "/" + batch.id);
        int succeeded = 0;
        int errored = 0;
        int expired = 0;
        int cancelled = 0;
        int collected = 0;
        for (var item : batch.items) {
            var result = poll.result(item.customId);
            synchronized (keyed) {
                // an item nobody waits for ends here (a repeat of its key after this point gets the journaled answer,
                // or submits a new item); under the lock, so a repeat joining now either revives it before this look
                // or misses it after
                if (item.abandoned) {
                    forget(item);
                    if (result instanceof ItemResult.Succeeded && item.keyed) {
                        collected++;
                    }
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
        if (collected > 0) {
            listener.collected(batch.group.api.provider(), batch.group.modelId, collected);
            int n = collected;
            LOG.info(() -> n + " item(s) of " + batch.group.api.provider() + " batch " + batch.id + " answered with no "
                    + "caller waiting: their answers are journaled for a repeat of their keys");
        }
        try {
            journal.prune();
        } catch (RuntimeException e) {
            journalFailed("prune", e);
        }
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
        closed = true;
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
        /** Named after a call key: a repeat can ask for it again. */
        final boolean keyed;
        final String digest;
        final BatchItem.Form form;
        /** The request (for a re-submission); a reloaded item has none until a repeat joins it. */
        volatile ChatRequest request;
        final Group group;
        volatile CompletableFuture<ChatResponse> result = new CompletableFuture<>();
        final long createdNanos = System.nanoTime();
        volatile int submissions;
        volatile boolean abandoned;
        volatile InFlight batch;
        int waiting = 1;
        /** Reloaded from the journal and not asked for since: nobody gave it up, so it keeps its batch running. */
        volatile boolean orphaned;

        Pending(String customId, boolean keyed, String digest, BatchItem.Form form, ChatRequest request,
                Group group) {
            this.customId = customId;
            this.keyed = keyed;
            this.digest = digest;
            this.form = form;
            this.request = request;
            this.group = group;
            if (request == null) {
                orphaned = true;
                abandoned = true;
                waiting = 0;
            }
        }

        /**
         * A repeat of the item's key joins it (under the coordinator's {@code keyed} lock): one more caller while
         * it is waited for, or, given up but still in a running batch, waited for again. False when it cannot be
         * joined (finished, or given up before it was submitted).
         */
        boolean join(ChatRequest repeat) {
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
            orphaned = false;
            waiting = 1;
            result = new CompletableFuture<>();
            // a re-submission (the item errored or expired) runs under the repeat's deadline
            request = repeat;
            return true;
        }
    }

    /** A submitted batch. */
    private static final class InFlight {
        final String id;
        final String journalId;
        final Group group;
        final List<Pending> items;
        final long submittedNanos = System.nanoTime();
        final AtomicBoolean cancelRequested = new AtomicBoolean();

        InFlight(String id, String journalId, Group group, List<Pending> items) {
            this.id = id;
            this.journalId = journalId;
            this.group = group;
            this.items = List.copyOf(items);
        }

        /** Every item was given up by its callers (a reloaded item nobody asked for since was not). */
        boolean allAbandoned() {
            for (var p : items) {
                if (!p.abandoned || p.orphaned) {
                    return false;
                }
            }
            return true;
        }

        Map<String, BatchItem.Form> forms() {
            var forms = new HashMap<String, BatchItem.Form>();
            items.forEach(p -> forms.put(p.customId, p.form));
            return forms;
        }
    }
}
