package dev.tandem.oracle.service;

import com.google.protobuf.util.Durations;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.worker.v1.LatencyClass;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The bounds of a task request, checked before any planning or model call so an oversized or malformed request
 * costs nothing: task length, number and size of inputs, input names, tenant, budget. Every violation is reported
 * at its field, all at once.
 */
@ApplicationScoped
public class TaskRequestBounds {

    /** Input names are referenced as {{inputs.NAME}}: the same characters a step id may use. */
    static final Pattern INPUT_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    static final Pattern TENANT = Pattern.compile("[A-Za-z0-9._-]{0,128}");

    private final OracleConfig.Limits limits;
    private final Duration maxBatchDeadline;

    public TaskRequestBounds(OracleConfig config) {
        this.limits = config.limits();
        this.maxBatchDeadline = config.batch().maxDeadline();
    }

    /**
     * A request a client waits on (Execute, ExecuteStream): not BATCH-class, which may take hours.
     *
     * @throws InvalidTaskException at {@code latency_class}
     */
    public void checkSynchronous(ExecuteRequest request) {
        if (request.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH) {
            var violation = new FieldViolation("latency_class", "BATCH-class tasks go through the providers' batch "
                    + "APIs and may take hours: submit them with SubmitTask and follow them with WatchTask or "
                    + "GetTask; Execute runs INTERACTIVE tasks");
            throw new InvalidTaskException(violation.description(), List.of(violation));
        }
    }

    /** How long a BATCH-class task may take from its submission: its batch deadline, else the configured maximum. */
    public Duration batchWindow(ExecuteRequest request) {
        return request.hasBatchDeadline() ? requested(request) : maxBatchDeadline;
    }

    public void check(ExecuteRequest request) {
        var violations = new ArrayList<FieldViolation>();
        if (request.getTask().length() > limits.maxTaskChars()) {
            violations.add(new FieldViolation("task", String.format(Locale.ROOT,
                    "the task has %d characters, more than the %d accepted: put long material in an input",
                    request.getTask().length(), limits.maxTaskChars())));
        }
        double maxError = request.getMaxErrorRate();
        if (Double.isNaN(maxError) || maxError < 0 || maxError >= 1) {
            violations.add(new FieldViolation("max_error_rate", "the outgoing error rate must be in [0, 1): 0 for the "
                    + "configured targets, e.g. 0.01 for at most 1 % wrong outputs after auditing"));
        }
        if (request.getInputsCount() > limits.maxInputs()) {
            violations.add(new FieldViolation("inputs", String.format(Locale.ROOT,
                    "%d inputs, more than the %d accepted", request.getInputsCount(), limits.maxInputs())));
        }
        long total = 0;
        String largest = null;
        int largestSize = -1;
        for (var input : request.getInputsMap().entrySet()) {
            if (!INPUT_NAME.matcher(input.getKey()).matches()) {
                violations.add(new FieldViolation("inputs." + input.getKey(), "input names are 1 to 64 letters, "
                        + "digits, '-' or '_' (they are referenced as {{inputs.NAME}})"));
            }
            int size = input.getValue().length();
            total += size;
            if (size > largestSize) {
                largest = input.getKey();
                largestSize = size;
            }
        }
        if (total > limits.maxInputChars()) {
            violations.add(new FieldViolation("inputs." + largest, String.format(Locale.ROOT,
                    "the inputs have %d characters together (this one %d), more than the %d accepted",
                    total, largestSize, limits.maxInputChars())));
        }
        if (!TENANT.matcher(request.getTenant()).matches()) {
            violations.add(new FieldViolation("tenant", "a tenant is at most 128 letters, digits, '.', '-' or '_'"));
        }
        if (request.getLatencyClass() == LatencyClass.UNRECOGNIZED) {
            violations.add(new FieldViolation("latency_class", "unknown latency class: INTERACTIVE, STANDARD or BATCH"));
        }
        if (request.hasBatchDeadline() && !Durations.isValid(request.getBatchDeadline())) {
            // outside google.protobuf.Duration's range (or seconds and nanos of opposite signs): converting it
            // overflowed into an INTERNAL error
            violations.add(new FieldViolation("batch_deadline", "not a valid google.protobuf.Duration: seconds within "
                    + "±10,000 years, nanos within ±999,999,999 and of the same sign"));
        } else if (request.hasBatchDeadline()) {
            var window = requested(request);
            if (request.getLatencyClass() != LatencyClass.LATENCY_CLASS_BATCH) {
                violations.add(new FieldViolation("batch_deadline", "a batch deadline is for BATCH-class tasks only "
                        + "(set latency_class to BATCH, or leave the deadline out)"));
            } else if (window.isNegative() || window.isZero() || window.compareTo(maxBatchDeadline) > 0) {
                violations.add(new FieldViolation("batch_deadline", String.format(Locale.ROOT,
                        "the batch deadline must be more than 0 and at most %d h (the providers' batch window, "
                                + "tandem.oracle.batch.max-deadline), not %s", maxBatchDeadline.toHours(), window)));
            }
        }
        if (!(request.getBudgetUsd() >= 0) || Double.isInfinite(request.getBudgetUsd())) {
            violations.add(new FieldViolation("budget_usd", "the budget must be a finite amount >= 0 (0 for none)"));
        }
        if (!violations.isEmpty()) {
            throw new InvalidTaskException(violations.size() == 1 ? violations.getFirst().description()
                    : violations.size() + " problems with the request", violations);
        }
    }

    private static Duration requested(ExecuteRequest request) {
        return Duration.ofSeconds(request.getBatchDeadline().getSeconds(), request.getBatchDeadline().getNanos());
    }
}
