package dev.tandem.oracle.security;

import dev.tandem.oracle.config.OracleConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The API keys of the public API, known only by their SHA-256 digests (from configuration and from a mounted
 * Secret file, which is re-read when it changes, so keys rotate without a restart). Keys are random and long, so a
 * plain digest is enough; lookups go by digest, so no comparison leaks timing about a key.
 */
@ApplicationScoped
public class ApiKeys {

    private static final Logger LOG = Logger.getLogger(ApiKeys.class);
    private static final long FILE_CHECK_NANOS = 1_000_000_000L;

    private final Map<String, String> tenantByDigest;
    private final Optional<Path> file;
    private volatile Map<String, String> fromFile = Map.of();
    private volatile FileTime fileTime;
    private volatile long fileCheckedAt;

    public ApiKeys(OracleConfig config) {
        var byDigest = new HashMap<String, String>();
        config.access().apiKeys().forEach((tenant, digests) -> digests.forEach(d -> {
            var digest = d.trim().toLowerCase(Locale.ROOT);
            if (!digest.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("tandem.oracle.access.api-keys.\"" + tenant
                        + "\": expected SHA-256 hex digests of the keys (64 hex characters), not the keys themselves");
            }
            byDigest.put(digest, tenant);
        }));
        this.tenantByDigest = Map.copyOf(byDigest);
        this.file = config.access().apiKeysFile().map(Path::of);
        file.ifPresent(f -> reload(f, true));
    }

    /** The tenant a key belongs to, if it is a known key. */
    public Optional<String> tenantOf(String key) {
        var digest = digest(key);
        var tenant = tenantByDigest.get(digest);
        if (tenant != null) {
            return Optional.of(tenant);
        }
        file.ifPresent(f -> {
            long now = System.nanoTime();
            if (now - fileCheckedAt > FILE_CHECK_NANOS) {
                fileCheckedAt = now;
                reload(f, false);
            }
        });
        return Optional.ofNullable(fromFile.get(digest));
    }

    /** Number of keys known, for the start-up log. */
    public int size() {
        return tenantByDigest.size() + fromFile.size();
    }

    public static String digest(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private synchronized void reload(Path f, boolean atStart) {
        try {
            var time = Files.getLastModifiedTime(f);
            if (!atStart && time.equals(fileTime)) {
                return;
            }
            var keys = new HashMap<String, String>();
            int lineNo = 0;
            for (var line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                lineNo++;
                var text = line.strip();
                if (text.isEmpty() || text.startsWith("#")) {
                    continue;
                }
                var parts = text.split("\\s+");
                if (parts.length != 2 || !parts[1].toLowerCase(Locale.ROOT).matches("[0-9a-f]{64}")) {
                    LOG.warnf("%s line %d ignored: expected '<tenant> <sha256-hex of the key>'", f, lineNo);
                    continue;
                }
                keys.put(parts[1].toLowerCase(Locale.ROOT), parts[0]);
            }
            fromFile = Map.copyOf(keys);
            fileTime = time;
            LOG.infof("API keys: %d read from %s", keys.size(), f);
        } catch (IOException e) {
            if (atStart) {
                throw new IllegalStateException("cannot read tandem.oracle.access.api-keys-file " + f + ": " + e, e);
            }
            LOG.warnf("cannot re-read %s (keeping the %d keys read before): %s", f, fromFile.size(), e.getMessage());
        }
    }
}
