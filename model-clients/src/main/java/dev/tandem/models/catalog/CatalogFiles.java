package dev.tandem.models.catalog;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

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
import java.util.Set;
import java.util.stream.Stream;

/**
 * The files of a catalog directory (a mounted ConfigMap), JSON ({@code *.json}) or YAML ({@code *.yaml},
 * {@code *.yml}), read strictly: an unknown key is an error, not a silently ignored typo. A file is either one
 * model's {@link CatalogEntry}, its id the file name without the extension (or its {@code id} key), or a router
 * document of models and pools ({@code {"models": {...}, "pools": {...}}}, the router reads those alone).
 */
public final class CatalogFiles {

    /** One file: a model entry, or a document of models and pools (then {@code entry} is null). */
    public record File(String name, CatalogEntry entry, JsonNode document) {

        public boolean isEntry() {
            return entry != null;
        }
    }

    /** The directory's files in name order, and a fingerprint of their names and content. */
    public record Directory(List<File> files, String fingerprint) {

        /** The model entries by id; two files with one id are an error. */
        public Map<String, CatalogEntry> entries() {
            Map<String, CatalogEntry> out = new LinkedHashMap<>();
            Map<String, String> fileOf = new LinkedHashMap<>();
            for (File file : files) {
                if (file.isEntry()) {
                    String previous = fileOf.put(file.entry().id(), file.name());
                    if (previous != null) {
                        throw new InvalidCatalogFileException("model '" + file.entry().id() + "' is defined by both "
                                + previous + " and " + file.name());
                    }
                    out.put(file.entry().id(), file.entry());
                }
            }
            return out;
        }
    }

    /** A file that is not a valid catalog file. */
    public static final class InvalidCatalogFileException extends RuntimeException {
        public InvalidCatalogFileException(String message) {
            super(message);
        }
    }

    private static final Set<String> DOCUMENT_KEYS = Set.of("models", "pools");

    private final ObjectMapper json = strict(JsonMapper.builder()).build();
    private final ObjectMapper yaml = strict(YAMLMapper.builder()).build();

    private static <M extends ObjectMapper, B extends MapperBuilder<M, B>> B strict(
            B builder) {
        return builder.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS);
    }

    /**
     * Reads every catalog file of the directory.
     *
     * @throws IOException                  when the directory or a file cannot be read
     * @throws InvalidCatalogFileException when a file is not a valid catalog file
     */
    public Directory read(Path dir) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        List<File> files = new ArrayList<>();
        for (Path path : catalogFiles(dir)) {
            String name = path.getFileName().toString();
            byte[] bytes = Files.readAllBytes(path);
            digest.update(name.getBytes(StandardCharsets.UTF_8));
            digest.update(bytes);
            files.add(parse(name, bytes));
        }
        return new Directory(List.copyOf(files), HexFormat.of().formatHex(digest.digest()));
    }

    /** Parses one file by its name (the extension says JSON or YAML, the name without it is the default id). */
    public File parse(String name, byte[] bytes) {
        boolean isYaml = name.endsWith(".yaml") || name.endsWith(".yml");
        ObjectMapper mapper = isYaml ? yaml : json;
        JsonNode tree;
        try {
            tree = mapper.readTree(bytes);
        } catch (IOException e) {
            throw new InvalidCatalogFileException(name + " is not valid " + (isYaml ? "YAML" : "JSON") + ": "
                    + firstLine(e.getMessage()));
        }
        if (!(tree instanceof ObjectNode object)) {
            throw new InvalidCatalogFileException(name + " must hold an object (a model entry, or models and pools)");
        }
        if (isDocument(object)) {
            return new File(name, null, object);
        }
        CatalogEntry entry;
        try {
            entry = mapper.treeToValue(object, CatalogEntry.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidCatalogFileException(name + " is not a valid model entry: " + firstLine(e.getMessage()));
        }
        String id = entry.id() != null && !entry.id().isBlank() ? entry.id() : name.substring(0, name.lastIndexOf('.'));
        return new File(name, entry.withId(id), null);
    }

    /**
     * A document has only {@code models} and {@code pools} (or nothing), the pools an object of pools (an entry lists
     * its pools).
     */
    private static boolean isDocument(ObjectNode object) {
        List<String> keys = new ArrayList<>();
        object.fieldNames().forEachRemaining(keys::add);
        if (!DOCUMENT_KEYS.containsAll(keys)) {
            return false;
        }
        return !object.has("pools") || object.get("pools").isObject();
    }

    private static List<Path> catalogFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("not a directory");
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.filter(p -> {
                String name = p.getFileName().toString();
                // ConfigMap mounts carry ..data and timestamped directories next to the key symlinks
                return (name.endsWith(".json") || name.endsWith(".yaml") || name.endsWith(".yml"))
                        && !name.startsWith("..") && !name.startsWith(".") && Files.isRegularFile(p);
            }).sorted().forEach(out::add);
        }
        return out;
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
