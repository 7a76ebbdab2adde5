package dev.tandem.router.catalog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tandem.router.catalog.CatalogSource.InvalidCatalogException;
import dev.tandem.router.config.CatalogDefinition;

/**
 * Catalog documents as JSON: a directory's {@code *.json} files or an admin request's body, read strictly (an
 * unknown field is an error, not a silently ignored typo; enum values in any case).
 */
final class CatalogDocuments {

    /** A directory's documents by file name, in name order, and a fingerprint of their names and content. */
    record Directory(Map<String, CatalogDefinition> files, String fingerprint) {
    }

    private final ObjectMapper json = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .build();

    /**
     * Reads every {@code *.json} file of the directory.
     *
     * @throws IOException             when the directory or a file cannot be read
     * @throws InvalidCatalogException when a file is not a valid catalog document
     */
    Directory read(Path dir) throws IOException {
        Map<String, CatalogDefinition> read = new LinkedHashMap<>();
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Path file : jsonFiles(dir)) {
            byte[] bytes = Files.readAllBytes(file);
            digest.update(file.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            digest.update(bytes);
            read.put(file.getFileName().toString(), parse(bytes, file.getFileName().toString()));
        }
        return new Directory(read, HexFormat.of().formatHex(digest.digest()));
    }

    /** Parses a catalog document (file or request body). */
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

    private static List<Path> jsonFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("not a directory");
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.filter(p -> {
                String name = p.getFileName().toString();
                // ConfigMap mounts carry ..data and timestamped directories next to the key symlinks
                return name.endsWith(".json") && !name.startsWith("..") && Files.isRegularFile(p);
            }).sorted().forEach(out::add);
        }
        return out;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
