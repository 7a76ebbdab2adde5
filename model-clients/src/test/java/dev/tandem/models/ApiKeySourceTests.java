package dev.tandem.models;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** A key file is read on every call, so a rotated Secret is used without a restart; its value is never shown. */
class ApiKeySourceTests {

    @TempDir
    Path dir;

    @Test
    void aRewrittenKeyFileIsReadAgain() throws Exception {
        var file = dir.resolve("api-key");
        Files.writeString(file, "sk-old\n");
        var source = ApiKeySource.file(file);
        assertThat(source.resolve()).contains("sk-old");

        Files.writeString(file, "sk-new\n");
        assertThat(source.resolve()).contains("sk-new");
    }

    /**
     * How the kubelet rotates a mounted Secret: the key is a symlink through {@code ..data}, which is swapped
     * atomically to a new timestamped directory, and the old directory is then removed.
     */
    @Test
    void aMountedSecretRotatedThroughItsDataSymlinkIsReadAgain() throws Exception {
        var first = Files.createDirectory(dir.resolve("..2026_12_06_09_00_00.1"));
        Files.writeString(first.resolve("api-key"), "sk-first");
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(dir.resolve("api-key"), Path.of("..data", "api-key"));
        var source = ApiKeySource.file(dir.resolve("api-key"));
        assertThat(source.resolve()).contains("sk-first");

        var second = Files.createDirectory(dir.resolve("..2026_12_06_10_00_00.2"));
        Files.writeString(second.resolve("api-key"), "sk-second");
        var swap = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
        Files.move(swap, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.delete(first.resolve("api-key"));
        Files.delete(first);

        assertThat(source.resolve()).contains("sk-second");
    }

    @Test
    void aKeyFileThatIsGoneOrEmptyIsNamedButTheOldKeyIsNotReused() throws Exception {
        var file = dir.resolve("api-key");
        Files.writeString(file, "sk-secret-value");
        var source = ApiKeySource.file(file);
        assertThat(source.resolve()).contains("sk-secret-value");

        Files.writeString(file, "  \n");
        var empty = catchThrowableOfType(IllegalStateException.class, source::resolve);
        assertThat(empty).hasMessageContaining(file.toString()).hasMessageContaining("empty");

        Files.delete(file);
        var gone = catchThrowableOfType(IllegalStateException.class, source::resolve);
        assertThat(gone).hasMessageContaining(file.toString()).hasMessageNotContaining("sk-secret-value");
        assertThat(source.toString()).contains(file.toString()).doesNotContain("sk-secret-value");
    }
}
