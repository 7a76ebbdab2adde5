package dev.tandem.worker.repository;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.batch.BatchItem;
import dev.tandem.models.batch.BatchJournal;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.FinishReason;
import dev.tandem.models.chat.TokenLogprob;
import dev.tandem.models.chat.TokenUsage;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The batch journal in PostgreSQL ({@code worker.provider_batches}, {@code worker.provider_batch_items}): plain JDBC,
 * a batch's intent and its items written in one transaction before the create (keyed by the journal id, the batch id
 * null), the batch id set once created. Several replicas may share the database: each polls the open
 * batches it claimed ({@code owner}, {@code claimed_until}), renewing its claim every time it looks, and takes over
 * those whose claim lapsed. Not a CDI bean: the datasource is optional, so the producer of the model registry builds
 * it only when the datasource is active. Failures are {@link BatchJournalException}s (the coordinator logs them and
 * goes on in memory).
 */
public final class BatchJournalRepository implements BatchJournal {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final DataSource dataSource;
    private final String owner;
    private final Duration claimLease;
    private final Duration retention;

    public BatchJournalRepository(DataSource dataSource, String owner, Duration claimLease, Duration retention) {
        this.dataSource = dataSource;
        this.owner = owner;
        this.claimLease = claimLease;
        this.retention = retention;
    }

    /** The name this replica claims its batches under. */
    public String owner() {
        return owner;
    }

    @Override
    public void intended(Batch batch) {
        try (var c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (var insert = c.prepareStatement("INSERT INTO worker.provider_batches (journal_id, provider, batch_id, "
                    + "model, state, submitted_at, owner, claimed_until) VALUES (?, ?, ?, ?, 'OPEN', ?, ?, "
                    + "now() + make_interval(secs => ?)) ON CONFLICT DO NOTHING");
                 var items = c.prepareStatement("INSERT INTO worker.provider_batch_items (journal_id, provider, "
                         + "custom_id, keyed, request_digest, answer_form) VALUES (?, ?, ?, ?, ?, ?) "
                         + "ON CONFLICT DO NOTHING")) {
                insert.setString(1, batch.journalId());
                insert.setString(2, batch.provider());
                insert.setString(3, batch.batchId());
                insert.setString(4, batch.modelId());
                insert.setTimestamp(5, Timestamp.from(batch.submittedAt()));
                insert.setString(6, owner);
                insert.setDouble(7, seconds(claimLease));
                insert.executeUpdate();
                for (var item : batch.items()) {
                    items.setString(1, batch.journalId());
                    items.setString(2, batch.provider());
                    items.setString(3, item.customId());
                    items.setBoolean(4, item.keyed());
                    items.setString(5, item.requestDigest());
                    items.setString(6, item.form().name());
                    items.addBatch();
                }
                items.executeBatch();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new BatchJournalException("could not journal the intent of " + batch.provider() + " batch "
                    + batch.journalId(), e);
        }
    }

    @Override
    public void created(String provider, String journalId, String batchId) {
        try (var c = dataSource.getConnection();
             var update = c.prepareStatement("UPDATE worker.provider_batches SET batch_id = ? "
                     + "WHERE journal_id = ? AND provider = ?")) {
            update.setString(1, batchId);
            update.setString(2, journalId);
            update.setString(3, provider);
            update.executeUpdate();
        } catch (SQLException e) {
            throw new BatchJournalException("could not journal " + provider + " batch " + batchId + " of intent "
                    + journalId, e);
        }
    }

    @Override
    public void notCreated(String provider, String journalId) {
        try (var c = dataSource.getConnection();
             var delete = c.prepareStatement("DELETE FROM worker.provider_batches WHERE journal_id = ? "
                     + "AND provider = ? AND batch_id IS NULL")) {
            delete.setString(1, journalId);
            delete.setString(2, provider);
            delete.executeUpdate();
        } catch (SQLException e) {
            throw new BatchJournalException("could not close " + provider + " batch intent " + journalId, e);
        }
    }

    @Override
    public void ended(String provider, String batchId, End end, Map<String, ChatResponse> answers) {
        try (var c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (var close = c.prepareStatement("UPDATE worker.provider_batches SET state = ?, ended_at = now() "
                    + "WHERE provider = ? AND batch_id = ? AND state = 'OPEN' RETURNING journal_id");
                 var answer = c.prepareStatement("UPDATE worker.provider_batch_items SET answer = ?::jsonb "
                         + "WHERE journal_id = ? AND custom_id = ?")) {
                close.setString(1, end.name());
                close.setString(2, provider);
                close.setString(3, batchId);
                String journalId = null;
                try (var rs = close.executeQuery()) {
                    if (rs.next()) {
                        journalId = rs.getString(1);
                    }
                }
                if (journalId != null) {
                    for (var e : answers.entrySet()) {
                        answer.setString(1, toJson(e.getValue()));
                        answer.setString(2, journalId);
                        answer.setString(3, e.getKey());
                        answer.addBatch();
                    }
                    answer.executeBatch();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new BatchJournalException("could not close " + provider + " batch " + batchId + " in the journal", e);
        }
    }

    @Override
    public List<Batch> claimOpen() {
        try (var c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            var batches = new ArrayList<Batch>();
            try (var claim = c.prepareStatement("UPDATE worker.provider_batches SET owner = ?, "
                    + "claimed_until = now() + make_interval(secs => ?) WHERE state = 'OPEN' "
                    + "AND (owner = ? OR claimed_until < now()) "
                    + "RETURNING journal_id, provider, batch_id, model, submitted_at");
                 var items = c.prepareStatement("SELECT custom_id, keyed, request_digest, answer_form "
                         + "FROM worker.provider_batch_items WHERE journal_id = ? ORDER BY custom_id")) {
                claim.setString(1, owner);
                claim.setDouble(2, seconds(claimLease));
                claim.setString(3, owner);
                var claimed = new ArrayList<String[]>();
                var submitted = new ArrayList<Timestamp>();
                try (var rs = claim.executeQuery()) {
                    while (rs.next()) {
                        claimed.add(new String[]{rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
                        submitted.add(rs.getTimestamp(5));
                    }
                }
                for (int i = 0; i < claimed.size(); i++) {
                    var row = claimed.get(i);
                    items.setString(1, row[0]);
                    var list = new ArrayList<Item>();
                    try (var rs = items.executeQuery()) {
                        while (rs.next()) {
                            list.add(new Item(rs.getString(1), rs.getBoolean(2), rs.getString(3),
                                    BatchItem.Form.valueOf(rs.getString(4))));
                        }
                    }
                    batches.add(new Batch(row[1], row[3], row[0], row[2], list, submitted.get(i).toInstant()));
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
            return List.copyOf(batches);
        } catch (SQLException e) {
            throw new BatchJournalException("could not claim the open batches of the journal", e);
        }
    }

    @Override
    public Optional<ChatResponse> answer(String provider, String modelId, String customId, String requestDigest) {
        try (var c = dataSource.getConnection();
             var select = c.prepareStatement("SELECT i.answer FROM worker.provider_batch_items i "
                     + "JOIN worker.provider_batches b ON b.journal_id = i.journal_id "
                     + "WHERE i.provider = ? AND i.custom_id = ? AND i.answer IS NOT NULL AND b.model = ? "
                     + "AND i.request_digest = ? AND b.ended_at > now() - make_interval(secs => ?) "
                     + "ORDER BY b.ended_at DESC LIMIT 1")) {
            select.setString(1, provider);
            select.setString(2, customId);
            select.setString(3, modelId);
            select.setString(4, requestDigest);
            select.setDouble(5, seconds(retention));
            try (var rs = select.executeQuery()) {
                return rs.next() ? Optional.of(fromJson(rs.getString(1))) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new BatchJournalException("could not read the journal's answer of item " + customId, e);
        }
    }

    @Override
    public void prune() {
        try (var c = dataSource.getConnection();
             var delete = c.prepareStatement("DELETE FROM worker.provider_batches WHERE state <> 'OPEN' "
                     + "AND ended_at < now() - make_interval(secs => ?)")) {
            delete.setDouble(1, seconds(retention));
            delete.executeUpdate();
        } catch (SQLException e) {
            throw new BatchJournalException("could not prune the journal", e);
        }
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /** An answer as stored: every field of the response, so a repeat gets what the first caller got. */
    static String toJson(ChatResponse r) {
        ObjectNode node = JSON.createObjectNode();
        node.put("text", r.text()).put("finish_reason", r.finishReason().name())
                .put("provider_finish_reason", r.providerFinishReason()).put("latency_nanos", r.latency().toNanos())
                .put("provider_model", r.providerModel());
        var u = r.usage();
        var usage = node.putObject("usage").put("input_tokens", u.inputTokens()).put("output_tokens", u.outputTokens())
                .put("cached_input_tokens", u.cachedInputTokens())
                .put("cache_write_input_tokens", u.cacheWriteInputTokens()).put("estimated", u.estimated());
        u.reportedCost().ifPresent(cost -> usage.put("reported_cost_usd", cost));
        var logprobs = node.putArray("logprobs");
        for (var t : r.logprobs()) {
            var token = logprobs.addObject().put("token", t.token()).put("logprob", t.logprob());
            var top = token.putArray("top");
            t.top().forEach(a -> top.addObject().put("token", a.token()).put("logprob", a.logprob()));
        }
        return node.toString();
    }

    static ChatResponse fromJson(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            var u = n.path("usage");
            var usage = new TokenUsage(u.path("input_tokens").asLong(), u.path("output_tokens").asLong(),
                    u.path("cached_input_tokens").asLong(), u.path("cache_write_input_tokens").asLong(),
                    u.path("estimated").asBoolean(),
                    u.hasNonNull("reported_cost_usd") ? u.path("reported_cost_usd").asDouble() : null);
            var logprobs = new ArrayList<TokenLogprob>();
            for (var t : n.path("logprobs")) {
                var top = new ArrayList<TokenLogprob.Alternative>();
                t.path("top").forEach(a -> top.add(new TokenLogprob.Alternative(a.path("token").asText(),
                        a.path("logprob").asDouble())));
                logprobs.add(new TokenLogprob(t.path("token").asText(), t.path("logprob").asDouble(), top));
            }
            return new ChatResponse(n.path("text").asText(), FinishReason.valueOf(n.path("finish_reason").asText()),
                    n.path("provider_finish_reason").asText(), usage, logprobs,
                    Duration.ofNanos(n.path("latency_nanos").asLong()), n.path("provider_model").asText());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new BatchJournalException("a journaled answer could not be read: " + e.getMessage(), e);
        }
    }

    /** A journal read or write that failed. */
    public static final class BatchJournalException extends RuntimeException {
        BatchJournalException(String message, Throwable cause) {
            super(message + ": " + cause.getMessage(), cause);
        }
    }
}
