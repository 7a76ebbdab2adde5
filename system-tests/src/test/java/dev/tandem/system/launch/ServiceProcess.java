package dev.tandem.system.launch;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Tandem service started as its own JVM from its packaged jar ({@code <service>/target/quarkus-app/quarkus-run.jar}),
 * the way an operator runs it: the production JVM settings of its Kubernetes manifest ({@link ProductionJvm}), its
 * module directory as working directory, a port of its own, the caller's configuration overrides as system
 * properties and the manifest's malloc settings ({@code MALLOC_ARENA_MAX}) in its environment; its output goes to
 * {@code target/e2e-logs/<name>.log} (or the directory given). The one launcher of the end-to-end, fault and restart
 * suites and the benchmarks.
 */
public final class ServiceProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public final String name;
    public final int port;
    private final String logName;
    private final Map<String, String> properties;
    private String heap = System.getProperty("tandem.service.xmx");
    private Path logDir = Path.of("target", "e2e-logs");
    private Process process;
    private Path log;
    private int starts;

    public ServiceProcess(String name, int port, Map<String, String> properties) {
        this(name, port, properties, name);
    }

    /** A second process of the same service, logging under {@code logName}. */
    public ServiceProcess(String name, int port, Map<String, String> properties, String logName) {
        this.name = name;
        this.port = port;
        this.properties = properties;
        this.logName = logName;
    }

    /**
     * A maximum heap instead of the manifest's (a benchmark that keeps more in memory than a production replica);
     * {@code -Dtandem.service.xmx} sets one for every service of a run.
     */
    public ServiceProcess heap(String xmx) {
        this.heap = xmx;
        return this;
    }

    /** Where the process's output goes ({@code target/e2e-logs} unless set). */
    public ServiceProcess logDir(Path dir) {
        this.logDir = dir;
        return this;
    }

    /** Starts every service, then waits for each to be ready, so that they boot side by side. */
    public static void startAll(Duration readyWithin, ServiceProcess... services)
            throws IOException, InterruptedException {
        for (var p : services) {
            p.start();
        }
        for (var p : services) {
            p.awaitReady(readyWithin);
        }
    }

    /** Stops the services in the order given (callers first), skipping any a failed start left unset. */
    public static void closeAll(ServiceProcess... services) throws InterruptedException {
        for (var p : services) {
            if (p != null) {
                p.close();
            }
        }
    }

    /**
     * Drops and re-creates a database on the PostgreSQL server at {@code serverJdbcUrl} (ending in '/'), so that a
     * suite's ledger and task store start empty; each suite takes a name of its own so parallel checkouts do not
     * drop each other's.
     */
    public static void freshDatabase(String serverJdbcUrl, String name) throws SQLException {
        if (!name.matches("[a-z0-9_]+")) { // it goes into the statement as an identifier
            throw new IllegalArgumentException("database name must be [a-z0-9_]+: " + name);
        }
        try (var c = DriverManager.getConnection(serverJdbcUrl + "postgres", "postgres", "");
             var s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + name);
        }
    }

    /**
     * Ports are taken from here up when set (a port range of one's own on a shared machine: {@link #portBase}, or
     * {@code -Dlauncher.port-base} for a whole run; not a {@code tandem.} key, which the Quarkus tests of a build
     * that passes it on would read as their own configuration and refuse), else any free one.
     */
    private static final AtomicInteger NEXT_PORT = new AtomicInteger(Integer.getInteger("launcher.port-base", 0));

    public static void portBase(int base) {
        NEXT_PORT.set(base);
    }

    public static int freePort() {
        for (int tries = 0; NEXT_PORT.get() > 0 && tries < 100; tries++) {
            int port = NEXT_PORT.getAndIncrement();
            try (var socket = new ServerSocket(port)) {
                socket.setReuseAddress(true);
                return port;
            } catch (IOException taken) {
                // the next one
            }
        }
        try (var socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The checkout: {@code -Dtandem.root}, else the parent of the module the JVM runs in (system-tests/). */
    public static Path root() {
        return Path.of(System.getProperty("tandem.root", "..")).toAbsolutePath().normalize();
    }

    static Path jar(String service) {
        // the services were packaged earlier in the same reactor build (they build before system-tests)
        Path jar = root().resolve(service).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: package the services first (./mvnw package)");
        }
        return jar;
    }

    /** The command line: the manifest's JVM settings, then this run's heap, profile and configuration. */
    List<String> command() throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String jvm = System.getProperty("tandem.service.jvm");
        // an experiment's JVM settings instead of the manifest's (docs/benchmarks.md compares them)
        cmd.addAll(jvm == null ? ProductionJvm.options(root(), name) : List.of(jvm.trim().split("\\s+")));
        String extra = System.getProperty("tandem.service.jvm-extra"); // appended: the last setting of a flag wins
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        if (heap != null) {
            cmd.add("-Xmx" + heap); // after the manifest's: the last -Xmx wins
        }
        cmd.add("--enable-native-access=ALL-UNNAMED");
        if (Boolean.getBoolean("tandem.service.jfr")) { // a profile per service process, for benchmark runs
            cmd.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
                    + Path.of("target", "bench", logName + "-" + starts + ".jfr").toAbsolutePath());
        }
        cmd.add("-Dquarkus.http.port=" + port);
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(jar(name).toString());
        return cmd;
    }

    /**
     * The environment variables set on the process besides the launcher's own: the manifest's malloc settings
     * ({@link ProductionJvm#malloc}), or with {@code -Dtandem.service.malloc} an experiment's instead
     * ({@code NAME=value,...}; {@code none} for glibc's defaults).
     */
    Map<String, String> environment() throws IOException {
        String malloc = System.getProperty("tandem.service.malloc");
        if (malloc == null) {
            return ProductionJvm.malloc(root(), name);
        }
        var out = new LinkedHashMap<String, String>();
        for (var setting : malloc.split(",")) {
            if (setting.isBlank() || setting.trim().equals("none")) {
                continue;
            }
            var kv = setting.trim().split("=", 2);
            if (kv.length != 2 || !kv[0].startsWith(ProductionJvm.MALLOC_PREFIX)) {
                throw new IllegalArgumentException("tandem.service.malloc: expected MALLOC_NAME=value, got '"
                        + setting + "'");
            }
            out.put(kv[0], kv[1]);
        }
        return out;
    }

    public ServiceProcess start() throws IOException {
        var cmd = command();
        Files.createDirectories(logDir);
        log = logDir.resolve(logName + (starts == 0 ? "" : "-" + starts) + ".log").toAbsolutePath();
        starts++;
        var builder = new ProcessBuilder(cmd).directory(root().resolve(name).toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        var env = builder.environment();
        // not inherited from whoever runs the suite: the manifest's (or the experiment's) settings, or glibc's defaults
        env.keySet().removeIf(k -> k.startsWith(ProductionJvm.MALLOC_PREFIX));
        env.putAll(environment());
        process = builder.start();
        return this;
    }

    public void awaitReady(Duration timeout) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                .timeout(Duration.ofSeconds(2)).build();
        while (System.nanoTime() < until) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(name + " not ready within " + timeout + "; see " + log);
    }

    /** GET on the service's HTTP port (admin API, metrics): the body, whatever the status. */
    public String get(String path) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    /** PUT a JSON body; fails unless the answer is 2xx. */
    public String put(String path, String json) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException("PUT " + path + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return response.body();
    }

    /** POST a JSON body; fails unless the answer is 2xx. */
    public String post(String path, String json) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofMinutes(5)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException("POST " + path + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return response.body();
    }

    /** Resident set size of the running process, in bytes (Linux /proc), or -1 when unknown. */
    public long rssBytes() {
        if (process == null || !process.isAlive()) {
            return -1;
        }
        try {
            for (var line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** The process id, or -1 when not running. */
    public long pid() {
        return process == null || !process.isAlive() ? -1 : process.pid();
    }

    /**
     * CPU time the process has used so far (user + system, Linux /proc, in clock ticks of 10 ms), in nanoseconds,
     * or -1 when unknown: the CPU a phase of a benchmark costs each service, whatever else runs beside it.
     */
    public long cpuNanos() {
        if (process == null || !process.isAlive()) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            // the fields after the command name in parentheses (which may hold spaces): utime is the 14th field
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * CPU time the JVM's JIT compiler threads have used so far ("C1 CompilerThre…", "C2 CompilerThre…" in
     * /proc/PID/task), in nanoseconds, or -1 when unknown: whether a service is still compiling its hot path, which
     * its total CPU cannot tell (a long compile queue keeps that flat for minutes before it falls).
     */
    public long jitCpuNanos() {
        if (process == null || !process.isAlive()) {
            return -1;
        }
        long ticks = 0;
        try (var threads = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
            for (var task : threads.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            }
            return ticks * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** SIGKILL: the process gets no chance to flush anything. */
    public void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
    }

    /** SIGTERM without waiting: the service begins its graceful shutdown; {@link #close()} waits for it. */
    public void terminate() {
        if (process != null && process.isAlive()) {
            process.destroy();
        }
    }

    /** SIGSTOP: the process holds still, its connections open, until {@link #resume()}. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        int rc = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start().waitFor();
        if (rc != 0) {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " exited " + rc);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
