package dev.tandem.models.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tandem.models.config.ModelConfig;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

import org.eclipse.microprofile.config.Config;

/**
 * The model catalog as the services that call models read it (the worker and the oracle): the entries of
 * {@code tandem.catalog.models}, the model files of {@code tandem.catalog.dir}, and the deprecated
 * {@code tandem.models} entries, merged by id.
 * <ul>
 *   <li>A file's entry replaces a property entry of the same id (as in the router, files win);</li>
 *   <li>an id in both {@code tandem.models} and {@code tandem.catalog.models} must say the same about how to reach
 *       the model: then the catalog entry is used and the old keys only warn; when they differ the service does not
 *       start, naming both. A catalog entry without a provider takes how to reach the model from the old keys.</li>
 * </ul>
 */
public final class ModelCatalog {

    /**
     * What the catalog holds for a caller: the entries it can call, what to warn about, and the ids of entries
     * without a provider (the router routes to them; a caller has nothing to call).
     */
    public record Read(Map<String, CatalogEntry> entries, List<String> warnings, List<String> notCallable) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelCatalog() {
    }

    /**
     * {@link #forCallers(CatalogConfig, Map)} as a service reads it at start: every warning goes to {@code warn}, first
     * the deprecated keys set in {@code config} ({@link LegacyKeys}), then the catalog's own, so that the worker and
     * the oracle report them alike.
     */
    public static Read forCallers(CatalogConfig catalog, Map<String, ModelConfig> legacy, Config config,
                                  Consumer<String> warn) {
        LegacyKeys.warnings(config).forEach(warn);
        Read read = forCallers(catalog, legacy);
        read.warnings().forEach(warn);
        return read;
    }

    /**
     * The catalog entries a caller may call, by id.
     *
     * @param legacy the deprecated {@code tandem.models} entries of the service
     * @throws IllegalStateException when the catalog directory cannot be read or holds an invalid file, or an id is
     *                               defined differently in the old and the new form
     */
    public static Read forCallers(CatalogConfig catalog, Map<String, ModelConfig> legacy) {
        Map<String, CatalogEntry> entries = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        List<String> conflicts = new ArrayList<>();
        catalog.models().forEach((id, model) -> entries.put(id, entry(id, model)));
        legacy.forEach((id, model) -> {
            CatalogEntry old = entry(id, model);
            CatalogEntry current = entries.get(id);
            if (current == null) {
                entries.put(id, old);
            } else if (!current.callable()) {
                // the catalog entry says only what the model is (a half-done migration): the old keys say how to
                // reach it
                entries.put(id, withReach(current, old));
            } else if (!reach(old).equals(reach(current))) {
                conflicts.add("model '" + id + "' is defined by both tandem.models.\"" + id
                        + "\".* (deprecated) and tandem.catalog.models.\"" + id + "\".*, and they differ in "
                        + differences(reach(old), reach(current)) + ": keep the catalog entry, remove the old keys");
            } else {
                warnings.add("model '" + id + "' is defined by both tandem.models.\"" + id + "\".* and tandem.catalog"
                        + ".models.\"" + id + "\".* alike: the old keys can go");
            }
        });
        if (!conflicts.isEmpty()) {
            throw new IllegalStateException("Conflicting model catalog:\n  - " + String.join("\n  - ", conflicts));
        }
        catalog.dir().ifPresent(dir -> {
            CatalogFiles.Directory directory;
            try {
                directory = new CatalogFiles().read(Path.of(dir));
            } catch (IOException | CatalogFiles.InvalidCatalogFileException e) {
                throw new IllegalStateException("catalog directory " + dir + " (tandem.catalog.dir): "
                        + e.getMessage(), e);
            }
            // as in the router: a file's entry replaces the configured entry of the same id
            directory.entries().forEach(entries::put);
        });
        Map<String, CatalogEntry> callable = new LinkedHashMap<>();
        List<String> notCallable = new ArrayList<>();
        entries.forEach((id, entry) -> {
            if (entry.callable()) {
                callable.put(id, entry);
            } else {
                notCallable.add(id);
            }
        });
        return new Read(callable, warnings, notCallable);
    }

    /** A {@code tandem.catalog.models} entry as a {@link CatalogEntry}. */
    public static CatalogEntry entry(String id, CatalogConfig.Model m) {
        return new CatalogEntry(id, m.provider().orElse(null), m.encoder().orElse(null), m.exemplarShare().orElse(null),
                m.baseUrl().orElse(null), m.model().orElse(null), m.apiKeyEnv().orElse(null),
                m.apiKeyFile().orElse(null), m.connectTimeout().orElse(null), m.requestTimeout().orElse(null),
                m.headers().isEmpty() ? null : m.headers(), m.structuredOutput().orElse(null),
                m.strictSchema().orElse(null), m.extraBody().map(TextNode::new).orElse(null),
                m.maxTokensParameter().orElse(null), m.maxOutputTokens().orElse(null), m.replay().map(ModelCatalog::replay)
                .orElse(null), m.capabilities().orElse(null), m.tier().orElse(null), m.inputUsdPerMtok().orElse(null),
                m.outputUsdPerMtok().orElse(null), m.cachedInputUsdPerMtok().orElse(null),
                m.contextTokens().orElse(null), m.residencyTags().orElse(null), m.workerTypes().orElse(null),
                m.priorQuality().orElse(null), m.pools().orElse(null), m.batchInputUsdPerMtok().orElse(null),
                m.batchOutputUsdPerMtok().orElse(null));
    }

    /** A deprecated {@code tandem.models} entry as a {@link CatalogEntry} (how to reach the model only). */
    public static CatalogEntry entry(String id, ModelConfig m) {
        return new CatalogEntry(id, m.provider(), m.encoder().orElse(null), m.exemplarShare(), m.baseUrl().orElse(null),
                m.model().orElse(null), m.apiKeyEnv().orElse(null), m.apiKeyFile().orElse(null), m.connectTimeout(),
                m.requestTimeout(), m.headers().isEmpty() ? null : m.headers(), m.structuredOutput().orElse(null),
                m.strictSchema(), m.extraBody().map(TextNode::new).orElse(null), m.maxTokensParameter(),
                m.maxOutputTokens(), m.replay().map(ModelCatalog::replay).orElse(null), m.capabilities().orElse(null),
                null, null, null, null, null, null, null, null, null, null, null);
    }

    private static CatalogEntry.Replay replay(ModelConfig.Replay r) {
        return new CatalogEntry.Replay(r.dataset(), r.promptColumn(), r.responseColumn().orElse(null),
                r.model().orElse(null), r.keyInput(), r.tokenizer());
    }

    /** The entry with how to reach the model taken from another (what the model is stays). */
    static CatalogEntry withReach(CatalogEntry what, CatalogEntry reach) {
        return new CatalogEntry(what.id(), reach.provider(), reach.encoder(), reach.exemplarShare(), reach.baseUrl(),
                reach.model(), reach.apiKeyEnv(), reach.apiKeyFile(), reach.connectTimeout(), reach.requestTimeout(),
                reach.headers(), reach.structuredOutput(), reach.strictSchema(), reach.extraBody(),
                reach.maxTokensParameter(), reach.maxOutputTokens(), reach.replay(), reach.capabilities(), what.tier(),
                what.inputUsdPerMtok(), what.outputUsdPerMtok(), what.cachedInputUsdPerMtok(), what.contextTokens(),
                what.residencyTags(), what.workerTypes(), what.priorQuality(), what.pools(),
                what.batchInputUsdPerMtok(), what.batchOutputUsdPerMtok());
    }

    /** How to reach the model, the defaults filled in, so that two forms of one entry compare equal. */
    static CatalogEntry reach(CatalogEntry e) {
        var r = e.replay();
        var replay = r == null ? null : new CatalogEntry.Replay(r.dataset(), or(r.promptColumn(), "prompt"),
                r.responseColumn(), r.model(), or(r.keyInput(), "question"), or(r.tokenizer(), "cl100k_base"));
        return new CatalogEntry(e.id(), e.provider(), e.encoder(), or(e.exemplarShare(), 1.0), e.baseUrl(), e.model(),
                e.apiKeyEnv(), e.apiKeyFile(), or(e.connectTimeout(), Duration.ofSeconds(5)),
                or(e.requestTimeout(), Duration.ofSeconds(25)), or(e.headers(), Map.of()), e.structuredOutput(),
                or(e.strictSchema(), false), extraBody(e.extraBody()), or(e.maxTokensParameter(), "max_tokens"),
                or(e.maxOutputTokens(), 1024), replay, e.capabilities(), null, null, null, null, null, null, null, null,
                null, null, null);
    }

    /** The fields in which two entries differ, by the names of their keys. */
    static String differences(CatalogEntry a, CatalogEntry b) {
        List<String> out = new ArrayList<>();
        for (RecordComponent component : CatalogEntry.class.getRecordComponents()) {
            try {
                Object left = component.getAccessor().invoke(a);
                Object right = component.getAccessor().invoke(b);
                if (!Objects.equals(left, right)) {
                    JsonProperty property = component.getAccessor().getAnnotation(JsonProperty.class);
                    out.add(property != null ? property.value() : component.getName());
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return String.join(", ", out);
    }

    /** An extra body given as text, parsed when it is JSON (so {@code {"a":1}} and {@code {"a": 1}} are alike). */
    static JsonNode extraBody(JsonNode body) {
        if (body instanceof TextNode text) {
            try {
                return JSON.readTree(text.textValue());
            } catch (IOException e) {
                return body;
            }
        }
        return body;
    }

    private static <T> T or(T value, T fallback) {
        return Optional.ofNullable(value).orElse(fallback);
    }
}
