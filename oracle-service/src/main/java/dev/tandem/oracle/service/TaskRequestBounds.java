package dev.tandem.oracle.service;

import dev.tandem.grpc.FieldViolation;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
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

    public TaskRequestBounds(OracleConfig config) {
        this.limits = config.limits();
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
        if (!(request.getBudgetUsd() >= 0) || Double.isInfinite(request.getBudgetUsd())) {
            violations.add(new FieldViolation("budget_usd", "the budget must be a finite amount >= 0 (0 for none)"));
        }
        if (!violations.isEmpty()) {
            throw new InvalidTaskException(violations.size() == 1 ? violations.getFirst().description()
                    : violations.size() + " problems with the request", violations);
        }
    }
}
