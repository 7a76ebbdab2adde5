package dev.tandem.system.fault;

import dev.tandem.system.launch.ServiceProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server of the suite's own (initdb in a temporary directory, a free port, trust auth), so the fault
 * suite can restart it without disturbing the machine's server or anyone else using it. Runs the server as the
 * {@code postgres} user when the suite runs as root (initdb refuses root).
 */
final class LocalPostgres implements AutoCloseable {

    final int port;
    private final Path bin;
    private final Path data;
    private final boolean asPostgresUser;

    private LocalPostgres(Path bin, Path data, int port, boolean asPostgresUser) {
        this.bin = bin;
        this.data = data;
        this.port = port;
        this.asPostgresUser = asPostgresUser;
    }

    /** The server binaries, when PostgreSQL is installed (Debian layout or pg_config on the PATH). */
    static Optional<Path> binaries() {
        var candidates = new ArrayList<Path>();
        try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            versions.sorted(java.util.Comparator.reverseOrder()).forEach(v -> candidates.add(v.resolve("bin")));
        } catch (IOException notDebian) {
            // fall through to pg_config
        }
        try {
            var p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            var out = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor() == 0) {
                candidates.add(Path.of(out));
            }
        } catch (IOException | InterruptedException noPgConfig) {
            // none
        }
        return candidates.stream().filter(b -> Files.isExecutable(b.resolve("initdb"))
                && Files.isExecutable(b.resolve("pg_ctl"))).findFirst();
    }

    static LocalPostgres start(Path bin) throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        var data = Files.createTempDirectory("tandem-fault-pg-");
        if (root) {
            run(List.of("chown", "postgres:postgres", data.toString()), false);
        }
        var pg = new LocalPostgres(bin, data, ServiceProcess.freePort(), root);
        pg.pg(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                "--auth=trust", "-E", "UTF8", "--no-sync"));
        pg.ctl("start");
        return pg;
    }

    String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** A fast restart: connections in flight are cut, as in a failover or a crash-restart. */
    void restart() throws Exception {
        ctl("restart");
    }

    @Override
    public void close() throws Exception {
        try {
            pg(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "stop"));
        } finally {
            run(List.of("rm", "-rf", data.toString()), false);
        }
    }

    private void ctl(String action) throws Exception {
        pg(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-m", "fast",
                "-l", data.resolve("server.log").toString(),
                "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + data, action));
    }

    private void pg(List<String> command) throws Exception {
        var cmd = new ArrayList<String>();
        if (asPostgresUser) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(command);
        run(cmd, true);
    }

    private static void run(List<String> command, boolean check) throws Exception {
        var p = new ProcessBuilder(command).redirectErrorStream(true).start();
        var out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish");
        }
        if (check && p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }
}
