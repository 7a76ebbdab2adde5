package dev.tandem.router.catalog;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tandem.models.catalog.CatalogFiles;
import dev.tandem.router.catalog.CatalogSource.InvalidCatalogException;
import dev.tandem.router.config.CatalogDefinition;

/**
 * Catalog files and admin request bodies, read strictly (an unknown field is an error, not a silently ignored typo;
 * enum values in any case). The files of the catalog directory are the model catalog's ({@link CatalogFiles}, JSON
 * or YAML): one model entry per file, of which the router takes what the model is, or a document of models and
 * pools.
 */
final class CatalogDocuments {

    /** A directory's documents by file name, in name order, and a fingerprint of their names and content. */
    record Directory(Map<String, CatalogDefinition> files, String fingerprint) {
    }

    private final CatalogFiles catalogFiles = new CatalogFiles();

    private final ObjectMapper json = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .build();

    /**
     * Reads every catalog file of the directory; a model entry without a tier adds nothing (the router does not
     * route to it).
     *
     * @throws IOException             when the directory or a file cannot be read
     * @throws InvalidCatalogException when a file is not a valid catalog file
     */
    Directory read(Path dir) throws IOException {
        CatalogFiles.Directory directory;
        try {
            directory = catalogFiles.read(dir);
            directory.entries();
        } catch (CatalogFiles.InvalidCatalogFileException e) {
            throw new InvalidCatalogException(e.getMessage());
        }
        Map<String, CatalogDefinition> read = new LinkedHashMap<>();
        for (CatalogFiles.File file : directory.files()) {
            read.put(file.name(), file.isEntry() ? entry(file) : document(file));
        }
        return new Directory(read, directory.fingerprint());
    }

    private static CatalogDefinition entry(CatalogFiles.File file) {
        try {
            return new CatalogDefinition(CatalogDefinition.Model.of(file.entry())
                    .map(m -> Map.of(file.entry().id(), m)).orElse(Map.of()), Map.of());
        } catch (IllegalArgumentException e) {
            throw new InvalidCatalogException(file.name() + ": " + e.getMessage());
        }
    }

    private CatalogDefinition document(CatalogFiles.File file) {
        try {
            return json.treeToValue(file.document(), CatalogDefinition.class);
        } catch (IOException e) {
            throw new InvalidCatalogException(file.name() + " is not a valid catalog document: "
                    + firstLine(e.getMessage()));
        }
    }

    /** Parses a catalog document (a request body). */
    CatalogDefinition parse(byte[] bytes, String what) {
        try {
            return json.readValue(bytes, CatalogDefinition.class);
        } catch (IOException e) {
            throw new InvalidCatalogException(what + " is not a valid catalog document: " + firstLine(e.getMessage()));
        }
    }

    /** Parses part of a catalog (a model, a pool, a policy override) from a request body. */
    <T> T parse(byte[] bytes, Class<T> type, String what) {
        try {
            return json.readValue(bytes, type);
        } catch (IOException e) {
            throw new InvalidCatalogException(what + " is not valid: " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
