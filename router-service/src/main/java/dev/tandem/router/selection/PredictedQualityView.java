package dev.tandem.router.selection;

import java.util.Map;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.learning.LiveView;
import dev.tandem.router.learning.StreamOutlooks;

/**
 * The live view the prompt-level policy ranks with: everything as the router measures it (latency, load, audit
 * outlooks, review and escalation prices), except the quality of the models it could predict for this step, which
 * is the prediction. A suspended model stays suspended whatever its prediction.
 *
 * @param live      the router's live view
 * @param predicted predicted quality by model id (models without enough reviewed outcomes are absent)
 */
record PredictedQualityView(LiveView live, Map<String, QualityEstimate> predicted) implements LiveView {

    @Override
    public QualityEstimate quality(String workerType, ModelProfile model) {
        QualityEstimate measured = live.quality(workerType, model);
        if (measured.source() == QualityEstimate.Source.SUSPENDED) {
            return measured;
        }
        return predicted.getOrDefault(model.id(), measured);
    }

    @Override
    public double p95Millis(Backend backend) {
        return live.p95Millis(backend);
    }

    @Override
    public double meanMillis(Backend backend) {
        return live.meanMillis(backend);
    }

    @Override
    public double errorRate(Backend backend) {
        return live.errorRate(backend);
    }

    @Override
    public int inFlight(Backend backend) {
        return live.inFlight(backend);
    }

    @Override
    public boolean circuitOpen(Backend backend) {
        return live.circuitOpen(backend);
    }

    @Override
    public long rateLimitedForNanos(Backend backend) {
        return live.rateLimitedForNanos(backend);
    }

    @Override
    public StreamOutlooks.Outlook outlook(String workerType, String modelId, String tenant) {
        return live.outlook(workerType, modelId, tenant);
    }

    @Override
    public double reviewUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        return live.reviewUsd(workerType, oracle, inputTokens, outputTokens);
    }

    @Override
    public double reviewWorstUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        return live.reviewWorstUsd(workerType, oracle, inputTokens, outputTokens);
    }

    @Override
    public double escalationUsd(String workerType, double oracleUsd) {
        return live.escalationUsd(workerType, oracleUsd);
    }
}
