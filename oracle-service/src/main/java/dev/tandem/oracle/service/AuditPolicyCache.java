package dev.tandem.oracle.service;

import dev.tandem.audit.policy.DecisionPolicy;
import dev.tandem.audit.policy.DecisionRule;
import dev.tandem.audit.policy.PolicyDecision;
import dev.tandem.audit.policy.PolicyInput;
import dev.tandem.oracle.client.AuditClient;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.mapping.AuditPolicyProtos;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.GetPoliciesResponse;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The audit service's published stream policies (GetPolicies, re-read every {@code tandem.oracle.audit.policy-refresh})
 * and the local decision under them, by the audit's own rule ({@link DecisionRule}). A stream with no published
 * policy (new: its first output creates it in probation) is decided remotely with Decide; so is every stream when
 * the policies were not refreshed within {@code policy-max-age} or local decisions are switched off. A policy a
 * refresh behind is not a risk to the guarantee: RecordDecisions re-decides every decision under the current
 * policy and the oracle acts on that answer. A stream whose published version has not changed for
 * {@code policy-stable-for} is "settled": only then may an output other steps read wait for the task's batch (a
 * policy that changes while a task runs would otherwise turn such outputs into reviews after they were used).
 */
@ApplicationScoped
public class AuditPolicyCache {

    private static final Logger LOG = Logger.getLogger(AuditPolicyCache.class);

    /**
     * One consistent view: the policies with the seed and tenant rule they were published with, and since when
     * (System.nanoTime()) each stream's version has been seen unchanged.
     */
    private record Snapshot(Map<StreamKey, DecisionPolicy> policies, Map<StreamKey, Long> unchangedSince, String seed,
            List<String> tenantStreams, long readAtNanos) {
    }

    /** A local decision and whether its stream's policy has been unchanged for {@code policy-stable-for}. */
    public record Local(LocalDecision decision, boolean settledPolicy) {
    }

    private final AuditClient client;
    private final OracleConfig config;
    private volatile Snapshot snapshot;

    public AuditPolicyCache(AuditClient client, OracleConfig config) {
        this.client = client;
        this.config = config;
    }

    @Scheduled(every = "${tandem.oracle.audit.policy-refresh}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduledRefresh() {
        if (config.audit().localDecisions()) {
            refresh();
        }
    }

    /** Re-reads the published policies; keeps the last ones when the audit service cannot be reached. */
    public boolean refresh() {
        GetPoliciesResponse published;
        try {
            published = client.getPolicies(null);
        } catch (RuntimeException e) {
            LOG.debugf("audit policies not refreshed: %s", e.getMessage());
            return false;
        }
        long now = System.nanoTime();
        Snapshot previous = snapshot;
        Map<StreamKey, DecisionPolicy> policies = new HashMap<>();
        Map<StreamKey, Long> since = new HashMap<>();
        for (StreamPolicy p : published.getPoliciesList()) {
            DecisionPolicy policy = AuditPolicyProtos.fromProto(p);
            policies.put(p.getStream(), policy);
            DecisionPolicy before = previous == null ? null : previous.policies().get(p.getStream());
            since.put(p.getStream(), before != null && before.version() == policy.version()
                    ? previous.unchangedSince().get(p.getStream()) : now);
        }
        snapshot = new Snapshot(Map.copyOf(policies), Map.copyOf(since), published.getSamplingSeed(),
                List.copyOf(published.getTenantStreamsList()), now);
        return true;
    }

    /** Forgets every policy: decisions go to Decide until the next refresh. */
    public void clear() {
        snapshot = null;
    }

    /**
     * The decision under the stream's published policy, with what RecordDecisions needs to check it; empty when
     * it must be taken remotely (switched off, no fresh policies, or no policy for the stream yet).
     */
    public Optional<Local> decide(DecideRequest request) {
        Snapshot s = snapshot;
        if (!config.audit().localDecisions() || s == null
                || System.nanoTime() - s.readAtNanos() > config.audit().policyMaxAge().toNanos()) {
            return Optional.empty();
        }
        StreamKey stream = AuditPolicyProtos.streamOf(request.getStream(), s.tenantStreams());
        DecisionPolicy policy = s.policies().get(stream);
        if (policy == null) {
            return Optional.empty();
        }
        boolean settled = s.readAtNanos() - s.unchangedSince().get(stream) >= config.audit().policyStableFor().toNanos();
        PolicyDecision d = DecisionRule.decide(new PolicyInput(request.getDecisionId(),
                request.hasConfidence() ? request.getConfidence() : null, request.getRawConfidence(),
                request.getValidationPassed()), policy, s.seed());
        return Optional.of(new Local(LocalDecision.newBuilder().setRequest(request)
                .setPolicyVersion(policy.version()).setDraw(d.draw()).setAction(AuditPolicyProtos.action(d))
                .setReason(AuditPolicyProtos.reason(d)).setMode(AuditPolicyProtos.mode(d)).build(), settled));
    }
}
