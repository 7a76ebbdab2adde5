import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Load for k8s/test/prometheus-queries.sh: Execute calls against the oracle for a few seconds, over the shipped
 * pipelines (triage, summary, extraction, sentiment), two tenants, and every tenth task with a budget too small for
 * any model, so the budget meters have data (the fourth is the first: on a loaded machine a run may make only a few
 * tasks). Run from source on the oracle's class path (plain grpc-java):
 * {@code java -cp 'oracle-service/target/quarkus-app/app/*:oracle-service/target/quarkus-app/lib/main/*'
 * k8s/test/TaskLoad.java localhost:8080 20 4 docs/samples/support-ticket.txt}.
 * Prints one line of counts by outcome and exits non-zero when no task succeeded.
 */
public final class TaskLoad {

    public static void main(String[] args) throws Exception {
        String target = args[0];
        long seconds = Long.parseLong(args[1]);
        int concurrency = Integer.parseInt(args[2]);
        String ticket = Files.readString(Path.of(args[3]));
        List<String> tasks = List.of("Triage this customer support ticket", "Summarise this document",
                "Extract the email, order id, amount and date from this text",
                "Classify the sentiment of this text: how does the customer feel");
        var channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        var stub = OracleServiceGrpc.newBlockingStub(channel);
        Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        var sequence = new AtomicInteger();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        var pool = Executors.newFixedThreadPool(concurrency);
        for (int t = 0; t < concurrency; t++) {
            pool.submit(() -> {
                while (System.nanoTime() < end) {
                    int n = sequence.getAndIncrement();
                    var request = ExecuteRequest.newBuilder().setTask(tasks.get(n % tasks.size()))
                            .putInputs("document", ticket).setTenant(n % 3 == 0 ? "acme" : "globex");
                    if (n % 10 == 3) {
                        request.setBudgetUsd(1e-9);
                    }
                    String outcome;
                    try {
                        stub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(request.build());
                        outcome = "ok";
                    } catch (StatusRuntimeException e) {
                        outcome = e.getStatus().getCode().name();
                    }
                    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(seconds + 120, TimeUnit.SECONDS);
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        System.out.println("tasks by outcome: " + outcomes);
        System.exit(outcomes.containsKey("ok") ? 0 : 1);
    }
}
