package dev.tandem.oracle.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.mapping.PlanJson;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanStep;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import io.grpc.Deadline;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a plan before anything runs: the JSON Schema ({@code plan.schema.json}) over the plan as JSON, then the
 * DAG rules the schema cannot express. Every violation is collected, so the caller sees all of them at once.
 */
@ApplicationScoped
public class PlanValidator {

    /**
     * {{inputs.NAME}} or {{steps.ID.output}}, blanks around the name allowed ({@link #referenceName}); anything else
     * between braces is reported as unknown. No quantifier next to another that matches the same characters: the
     * earlier pattern, blanks (\s*) on both sides of a lazy [^{}]*?, backtracked polynomially on "{{" and a run of
     * blanks without closing braces (two minutes of a core for 5,000 blanks).
     */
    public static final Pattern REFERENCE = Pattern.compile("\\{\\{([^{}]*)}}");
    private static final Pattern INPUT_REF = Pattern.compile("inputs\\.([A-Za-z0-9_.-]+)");
    private static final Pattern STEP_REF = Pattern.compile("steps\\.([a-z0-9_-]+)\\.output");
    /** A step id, whole; and the schema's pattern for it as the schema validator applies it (a search). */
    private static final Pattern STEP_ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Pattern SCHEMA_STEP_ID = Pattern.compile("^[a-z0-9][a-z0-9_-]{0,62}$");

    /** What a {@link #REFERENCE} match names: the text between its braces without the blanks ({@code \\s}) around it. */
    public static String referenceName(Matcher reference) {
        var text = reference.group(1);
        int start = 0;
        int end = text.length();
        while (start < end && isBlank(text.charAt(start))) {
            start++;
        }
        while (end > start && isBlank(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(start, end);
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    private final OracleConfig config;
    private final RouterCatalog catalog;
    private final ObjectMapper mapper;

    /**
     * The schema check of recent plans. A catalog pipeline's plan is the same for every task that names it, and
     * converting it to JSON and walking the schema was most of validating it, on every task; the checks against the
     * router's worker types and the request's inputs, which can change, still run every time. Only plans up to
     * {@link #MEMO_MAX_PLAN_BYTES} are kept, so the memo holds at most a few MB.
     */
    private final BoundedMemo<Plan, List<FieldViolation>> schemaViolations = new BoundedMemo<>(64, this::schemaCheck);
    static final int MEMO_MAX_PLAN_BYTES = 32 * 1024;

    private JsonSchema schema;
    private ObjectNode schemaDocument;

    public PlanValidator(OracleConfig config, RouterCatalog catalog, ObjectMapper mapper) {
        this.config = config;
        this.catalog = catalog;
        this.mapper = mapper;
    }

    @PostConstruct
    void loadSchema() {
        try (var in = Thread.currentThread().getContextClassLoader().getResourceAsStream("plan.schema.json")) {
            if (in == null) {
                throw new IllegalStateException("plan.schema.json is missing from the class path");
            }
            var node = (ObjectNode) mapper.readTree(in);
            // the size bound is configuration, the rest of the schema is the file
            ((ObjectNode) node.get("properties").get("steps")).put("maxItems", config.maxSteps());
            schemaDocument = node;
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The plan schema with the configured size bound, for a model planner's structured output. */
    public ObjectNode schemaDocument() {
        return schemaDocument.deepCopy();
    }

    /**
     * Validates the plan for a request carrying these inputs.
     *
     * @return the plan's order and parallel levels
     * @throws InvalidTaskException with every violation found
     */
    public PlanGraph validate(Plan plan, Map<String, String> requestInputs, Deadline deadline) {
        if (plan.getStepsCount() > config.maxSteps()) {
            // refused for its size alone: the other checks are noise on it, and some grow faster than the steps (a
            // cycle search from each step behind a cycle: 20,000 steps outlasted any deadline)
            throw refusal(List.of(new FieldViolation("plan.steps", String.format(Locale.ROOT, "the plan has %d "
                    + "steps, more than the %d accepted (tandem.oracle.max-steps)", plan.getStepsCount(),
                    config.maxSteps()))));
        }
        var violations = new ArrayList<FieldViolation>(plan.getSerializedSize() <= MEMO_MAX_PLAN_BYTES
                ? schemaViolations.get(plan) : schemaCheck(plan));
        var steps = plan.getStepsList();
        var known = steps.isEmpty() ? Map.<String, WorkerTypeInfo>of()
                : catalog.workerTypes(deadline);

        Map<String, Integer> indexById = new HashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            var id = steps.get(i).getId();
            var first = indexById.putIfAbsent(id, i);
            if (first != null && !id.isEmpty()) {
                violations.add(new FieldViolation(path(i, "id"),
                        "duplicate step id '" + id + "' (first used by plan.steps[" + first + "])"));
            }
        }
        for (int i = 0; i < steps.size(); i++) {
            checkStep(i, steps.get(i), indexById, known, requestInputs, violations);
        }
        var graph = levels(steps, indexById, violations);
        if (!violations.isEmpty()) {
            throw refusal(new ArrayList<>(new LinkedHashSet<>(violations)));
        }
        return graph;
    }

    private static InvalidTaskException refusal(List<FieldViolation> unique) {
        return new InvalidTaskException("the plan is invalid: " + unique.size() + " violation(s): "
                + unique.getFirst().field() + ": " + unique.getFirst().description()
                + (unique.size() > 1 ? " (and more)" : ""), unique);
    }

    /** What the JSON Schema finds wrong with the plan: a function of the plan alone. */
    private List<FieldViolation> schemaCheck(Plan plan) {
        var violations = new ArrayList<FieldViolation>();
        for (ValidationMessage m : schema.validate(PlanJson.toJson(plan))) {
            violations.add(new FieldViolation(fieldPath(m), describe(m)));
        }
        return List.copyOf(violations);
    }

    private void checkStep(int i, PlanStep step, Map<String, Integer> indexById,
                           Map<String, WorkerTypeInfo> known,
                           Map<String, String> requestInputs, List<FieldViolation> violations) {
        if (SCHEMA_STEP_ID.matcher(step.getId()).find() && !STEP_ID.matcher(step.getId()).matches()) {
            // passed the schema's pattern only through java.util.regex's '$', which matches before a last line break
            violations.add(new FieldViolation(path(i, "id"), "a step id is 1 to 63 lower case letters, digits, '-' "
                    + "or '_', without a line break"));
        }
        var type = known.get(step.getWorkerType());
        if (!step.getWorkerType().isEmpty() && type == null) {
            violations.add(new FieldViolation(path(i, "worker_type"), "unknown worker type '"
                    + step.getWorkerType() + "'; known: " + known.keySet().stream().sorted().toList()));
        }
        if (type != null) {
            for (var required : type.getRequiredInputsList()) {
                if (!step.getInputsMap().containsKey(required)) {
                    violations.add(new FieldViolation(path(i, "inputs." + required),
                            "worker type '" + type.getName() + "' requires input '" + required + "'"));
                }
            }
        }
        var deps = step.getDependsOnList();
        var declared = Set.copyOf(deps); // looked up once per reference, which a plan may have by the hundred thousand
        for (int j = 0; j < deps.size(); j++) {
            var dep = deps.get(j);
            if (dep.equals(step.getId())) {
                violations.add(new FieldViolation(path(i, "depends_on[" + j + "]"),
                        "step '" + step.getId() + "' depends on itself"));
            } else if (!indexById.containsKey(dep)) {
                violations.add(new FieldViolation(path(i, "depends_on[" + j + "]"),
                        "depends on unknown step '" + dep + "'"));
            }
        }
        long expanded = 0; // the step's inputs with the request's inputs substituted (step outputs are not known yet)
        for (var input : step.getInputsMap().entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            expanded += input.getValue().length();
            Matcher m = REFERENCE.matcher(input.getValue());
            while (m.find()) {
                var ref = referenceName(m);
                var field = path(i, "inputs." + input.getKey());
                Matcher in = INPUT_REF.matcher(ref);
                Matcher st = STEP_REF.matcher(ref);
                if (in.matches()) {
                    var value = requestInputs.get(in.group(1));
                    expanded += value == null ? 0 : value.length() - (m.end() - m.start());
                    if (value == null) {
                        violations.add(new FieldViolation(field, "references {{inputs." + in.group(1)
                                + "}} but the request has no input '" + in.group(1) + "'; inputs given: "
                                + requestInputs.keySet().stream().sorted().toList()));
                    }
                } else if (st.matches()) {
                    if (!declared.contains(st.group(1))) {
                        violations.add(new FieldViolation(field, "references {{steps." + st.group(1)
                                + ".output}} but '" + st.group(1) + "' is not in depends_on"));
                    }
                } else {
                    violations.add(new FieldViolation(field, "unknown reference {{" + ref
                            + "}}; use {{inputs.NAME}} or {{steps.ID.output}}"));
                }
            }
        }
        int max = config.limits().maxStepInputChars();
        if (expanded > max) {
            violations.add(new FieldViolation(path(i, "inputs"), String.format(Locale.ROOT, "with the request's "
                    + "inputs substituted the step's inputs would have %d characters, more than the %d accepted "
                    + "(tandem.oracle.limits.max-step-input-chars)", expanded, max)));
        }
    }

    /** Kahn's algorithm level by level; whatever is left over sits on or behind a cycle, which is reported. */
    private PlanGraph levels(List<PlanStep> steps, Map<String, Integer> indexById, List<FieldViolation> violations) {
        int n = steps.size();
        int[] pending = new int[n];
        List<List<Integer>> dependents = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            dependents.add(new ArrayList<>());
        }
        for (int i = 0; i < n; i++) {
            if (indexById.get(steps.get(i).getId()) != i) {
                continue; // duplicates are reported; the first occurrence stands for the id
            }
            for (var dep : new LinkedHashSet<>(steps.get(i).getDependsOnList())) {
                Integer d = indexById.get(dep);
                if (d != null && d != i) {
                    pending[i]++;
                    dependents.get(d).add(i);
                }
            }
        }
        List<List<String>> levels = new ArrayList<>();
        List<String> order = new ArrayList<>();
        Set<Integer> done = new HashSet<>();
        List<Integer> ready = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (pending[i] == 0 && indexById.get(steps.get(i).getId()) == i) {
                ready.add(i);
            }
        }
        while (!ready.isEmpty()) {
            ready.sort(Comparator.naturalOrder());
            levels.add(ready.stream().map(i -> steps.get(i).getId()).toList());
            List<Integer> next = new ArrayList<>();
            for (int i : ready) {
                done.add(i);
                order.add(steps.get(i).getId());
                for (int d : dependents.get(i)) {
                    if (--pending[d] == 0) {
                        next.add(d);
                    }
                }
            }
            ready = next;
        }
        for (int i = 0; i < n; i++) {
            if (!done.contains(i) && indexById.get(steps.get(i).getId()) == i) {
                var cycle = findCycle(i, steps, indexById);
                if (cycle != null) {
                    int start = indexById.get(cycle.getFirst());
                    var description = "dependency cycle: " + String.join(" -> ", cycle);
                    violations.add(new FieldViolation(path(start, "depends_on"), description));
                    cycle.forEach(id -> done.add(indexById.get(id))); // report each cycle once
                }
            }
        }
        return new PlanGraph(order, levels);
    }

    /** A dependency cycle reachable from the step, as ids with the first repeated at the end; null when none. */
    private static List<String> findCycle(int from, List<PlanStep> steps, Map<String, Integer> indexById) {
        var onPath = new ArrayList<Integer>();
        var visited = new HashSet<Integer>();
        var stack = new ArrayDeque<Iterator<Integer>>();
        onPath.add(from);
        visited.add(from);
        stack.push(successors(from, steps, indexById).iterator());
        while (!stack.isEmpty()) {
            var it = stack.peek();
            if (!it.hasNext()) {
                stack.pop();
                onPath.removeLast();
                continue;
            }
            int next = it.next();
            int at = onPath.indexOf(next);
            if (at >= 0) {
                var cycle = new ArrayList<String>();
                for (int k = at; k < onPath.size(); k++) {
                    cycle.add(steps.get(onPath.get(k)).getId());
                }
                cycle.add(steps.get(next).getId());
                return cycle;
            }
            if (visited.add(next)) {
                onPath.add(next);
                stack.push(successors(next, steps, indexById).iterator());
            }
        }
        return null;
    }

    private static List<Integer> successors(int i, List<PlanStep> steps, Map<String, Integer> indexById) {
        var out = new ArrayList<Integer>();
        for (var dep : steps.get(i).getDependsOnList()) {
            Integer d = indexById.get(dep);
            if (d != null && d != i) {
                out.add(d);
            }
        }
        return out;
    }

    private static String path(int index, String field) {
        return "plan.steps[" + index + "]." + field;
    }

    private static String fieldPath(ValidationMessage m) {
        var location = m.getInstanceLocation().toString();
        var path = "plan" + (location.startsWith("$") ? location.substring(1) : "." + location);
        if ("required".equals(m.getType()) && m.getProperty() != null) {
            path += "." + m.getProperty();
        }
        return path;
    }

    private static String describe(ValidationMessage m) {
        var message = m.getMessage();
        var location = m.getInstanceLocation().toString();
        return message.startsWith(location + ": ") ? message.substring(location.length() + 2) : message;
    }
}
