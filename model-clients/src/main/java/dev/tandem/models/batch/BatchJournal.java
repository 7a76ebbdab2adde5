package dev.tandem.models.batch;

import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the {@link BatchCoordinator} writes down the provider batches it submits, so that a restarted service polls
 * them on instead of submitting their items again (the provider runs and bills a batch whether anyone polls it or
 * not). A batch is written as an intent (its items under a journal id of our own, no batch id yet) before the
 * provider is asked to create it, and gets its batch id once created, before it is first polled: a crash between the
 * two leaves an intent, which a restarted service resolves by asking the provider whether a batch was created under
 * that journal id ({@link BatchApi#find}). When the batch ends, the answers of its keyed items are written with it,
 * so a repeat of a key after the batch ended, within the journal's retention, is answered from the record. A service without a database keeps the journal in memory ({@link #inMemory}): it forgets everything
 * with the process, as before the journal. Implementations are thread-safe; a failing write throws, and the
 * coordinator logs it and goes on (the batch is then only in memory).
 */
public interface BatchJournal {

    /**
     * One item of a journaled batch.
     *
     * @param customId      the provider's {@code custom_id}: the SHA-256 of the call key for a keyed item
     * @param keyed         whether a repeat of a call can ask for the item again (named after a call key)
     * @param requestDigest {@link #requestDigest} of the request: a repeat joins the item (or gets its recorded
     *                      answer) only when it asks for the same thing
     * @param form          how its answer is read from the provider's result
     */
    record Item(String customId, boolean keyed, String requestDigest, BatchItem.Form form) {
    }

    /**
     * A batch: the provider ({@link BatchApi#provider()}), the model's catalog id, our journal id (sent with the
     * create where the provider keeps it), the provider's batch id, null while it is an intent (the create not known
     * to have made a batch).
     */
    record Batch(String provider, String modelId, String journalId, String batchId, List<Item> items,
                 Instant submittedAt) {

        public Batch {
            items = List.copyOf(items);
        }

        /** An intent: written before the create, no batch id yet. */
        public boolean intent() {
            return batchId == null;
        }

        public Batch created(String id) {
            return new Batch(provider, modelId, journalId, id, items, submittedAt);
        }
    }

    /** How a journaled batch ended. */
    enum End {
        /** The provider ended it (completed, expired, failed, or cancelled by someone else); results were read. */
        ENDED,
        /** This service cancelled it: every caller of its items gave up, or none could ask for them. */
        CANCELLED
    }

    /** Writes a batch about to be created, open, as an intent ({@link Batch#batchId()} null). */
    void intended(Batch batch);

    /** The provider created the intent's batch: its batch id, from now on what polls, ends and claims name. */
    void created(String provider, String journalId, String batchId);

    /** The intent's create made no batch (the provider refused it, or lists none under its journal id): it goes. */
    void notCreated(String provider, String journalId);

    /**
     * The batch ended: it is closed, with the answers of its keyed items that succeeded (by custom id), kept for the
     * retention.
     */
    void ended(String provider, String batchId, End end, Map<String, ChatResponse> answers);

    /**
     * The open batches this service is to poll, and intents it is to resolve: after a start, every batch and intent it
     * left open; with a shared database, also those of a replica that stopped polling them (its claim lapsed). Calling
     * it again renews this service's claim on them.
     */
    List<Batch> claimOpen();

    /** The recorded answer of a keyed item of an ended batch, within the retention, if its request was the same. */
    Optional<ChatResponse> answer(String provider, String modelId, String customId, String requestDigest);

    /** Deletes the batches that ended longer than the retention ago, with their answers. */
    void prune();

    /** A journal in this process's memory: it holds what a running service knows and is lost with it. */
    static BatchJournal inMemory(Duration retention) {
        return new InMemoryBatchJournal(retention);
    }

    /**
     * What a request asks the model, as a digest: the messages, the response schema, logprobs, max tokens,
     * temperature and model; not its deadline or key. URL-safe Base64 of a SHA-256 (43 characters).
     */
    static String requestDigest(ChatRequest request) {
        var text = new StringBuilder();
        for (var m : request.messages()) {
            field(text, m.role().name());
            field(text, m.content());
        }
        field(text, request.responseSchema().map(s -> s.name() + ":" + s.schema()).orElse(""));
        field(text, request.logprobs() + "/" + request.topLogprobs());
        field(text, request.maxTokens().isPresent() ? Integer.toString(request.maxTokens().getAsInt()) : "");
        field(text, request.temperature().isPresent() ? Double.toString(request.temperature().getAsDouble()) : "");
        field(text, request.model().orElse(""));
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256")
                    .digest(text.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Length-prefixed, so no two different requests join into the same text. */
    private static void field(StringBuilder text, String value) {
        text.append(value.length()).append(':').append(value).append('\n');
    }
}
