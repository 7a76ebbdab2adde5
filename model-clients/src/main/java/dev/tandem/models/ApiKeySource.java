package dev.tandem.models;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where a model's API key comes from: an environment variable or a file (a mounted Kubernetes Secret). The key is
 * read when a call is made, so a rotated Secret is picked up without a restart. {@link #toString()} and
 * {@link #describe()} name the source, never the value.
 */
public final class ApiKeySource {

    private static final ApiKeySource NONE = new ApiKeySource(null, null, System::getenv);

    private final String env;
    private final Path file;
    private final Function<String, String> environment;

    private ApiKeySource(String env, Path file, Function<String, String> environment) {
        this.env = env;
        this.file = file;
        this.environment = environment;
    }

    /** No key: for servers without authentication (a local vLLM, Ollama, LM Studio). */
    public static ApiKeySource none() {
        return NONE;
    }

    /** The key is the value of an environment variable. */
    public static ApiKeySource env(String variable) {
        return env(variable, System::getenv);
    }

    /** The key is the value of a variable of the given environment (for tests). */
    public static ApiKeySource env(String variable, Function<String, String> environment) {
        if (variable == null || variable.isBlank()) {
            throw new IllegalArgumentException("the API key variable name is blank");
        }
        return new ApiKeySource(variable, null, environment);
    }

    /** The key is the content of a file, trimmed; for a Secret mounted as a volume. */
    public static ApiKeySource file(Path path) {
        return new ApiKeySource(null, path, System::getenv);
    }

    /** From configuration: at most one of the two may be set. */
    public static ApiKeySource of(Optional<String> env, Optional<String> file) {
        var e = env.filter(s -> !s.isBlank());
        var f = file.filter(s -> !s.isBlank());
        if (e.isPresent() && f.isPresent()) {
            throw new IllegalArgumentException("set either api-key-env or api-key-file, not both");
        }
        return e.map(ApiKeySource::env).or(() -> f.map(p -> file(Path.of(p)))).orElse(NONE);
    }

    /** True when no key is configured. */
    public boolean isNone() {
        return env == null && file == null;
    }

    /** The environment variable, if the key comes from one. */
    public Optional<String> envVariable() {
        return Optional.ofNullable(env);
    }

    /** The file, if the key comes from one. */
    public Optional<Path> filePath() {
        return Optional.ofNullable(file);
    }

    /**
     * The key now, if configured and present.
     *
     * @throws IllegalStateException when the key is configured but cannot be read or is empty (message names the
     *                               source only)
     */
    public Optional<String> resolve() {
        if (isNone()) {
            return Optional.empty();
        }
        String value;
        if (env != null) {
            value = environment.apply(env);
            if (value == null || value.isBlank()) {
                throw new IllegalStateException("the API key variable " + env + " is not set");
            }
        } else {
            try {
                value = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("the API key file " + file + " cannot be read ("
                        + e.getClass().getSimpleName() + ")");
            }
            if (value.isBlank()) {
                throw new IllegalStateException("the API key file " + file + " is empty");
            }
        }
        return Optional.of(value.strip());
    }

    /** Where the key comes from, for admin views and logs. */
    public String describe() {
        return env != null ? "env " + env : file != null ? "file " + file : "none";
    }

    @Override
    public String toString() {
        return "ApiKeySource[" + describe() + "]";
    }
}
