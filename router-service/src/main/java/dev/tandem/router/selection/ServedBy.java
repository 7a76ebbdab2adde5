package dev.tandem.router.selection;

import java.util.ArrayList;
import java.util.List;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;

/**
 * The backends of a catalog whose model serves a worker type, and the others, already rejected for it: computed once
 * per catalog snapshot and worker type ({@link Catalog#perWorkerType}), so selection evaluates only the serving ones
 * and every decision shares the same immutable rejections.
 */
record ServedBy(Backend[] serving, CandidateEvaluation[] notServing) {

    static ServedBy of(Catalog catalog, String workerType) {
        return catalog.perWorkerType(workerType, ServedBy.class, ServedBy::compute);
    }

    private static ServedBy compute(Catalog catalog, String workerType) {
        List<Backend> serving = new ArrayList<>();
        List<CandidateEvaluation> not = new ArrayList<>();
        for (Backend b : catalog.backendList()) {
            if (b.model().servesWorkerType(workerType)) {
                serving.add(b);
            } else {
                CandidateEvaluation e = new CandidateEvaluation(b, 0, 0, b.model().prior(), 0, 0, 0);
                e.reject(RejectionKind.WORKER_TYPE, "model does not serve worker type '" + workerType + "'");
                not.add(e);
            }
        }
        return new ServedBy(serving.toArray(Backend[]::new), not.toArray(CandidateEvaluation[]::new));
    }
}
