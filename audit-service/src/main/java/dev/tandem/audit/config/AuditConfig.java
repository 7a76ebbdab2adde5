package dev.tandem.audit.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Audit policy and ledger settings ({@code tandem.audit.*}). The trust rules these feed are documented in
 * {@link dev.tandem.audit.service.TrustPolicy}.
 */
@ConfigMapping(prefix = "tandem.audit")
public interface AuditConfig {

    /** Which confident outputs are sampled for review. */
    Sampling sampling();

    /** When a stream changes trust state. */
    Trust trust();

    /** Ledger queries. */
    Ledger ledger();

    /** Stream gauges. */
    Metrics metrics();

    interface Sampling {
        /** Seed of the deterministic per-decision draw: the same decision id always draws the same number. */
        @WithDefault("tandem-audit")
        String seed();

        /** Confidence under which an output is always reviewed (blocking); a new stream starts with it. */
        @WithDefault("0.7")
        double confidenceThreshold();

        /** Share of confident outputs reviewed (shadow) in the NORMAL state. */
        @WithDefault("0.10")
        double normalRate();

        /** Share of confident outputs reviewed (shadow) in the REDUCED state. */
        @WithDefault("0.03")
        double reducedRate();
    }

    interface Trust {
        /** Error rate a stream must be shown (at the credible level) not to exceed to earn or keep trust. */
        @WithDefault("0.02")
        double targetErrorRate();

        /** Credible level of the Beta-posterior bounds. */
        @WithDefault("0.95")
        double credibleLevel();

        /** Consecutive accepted reviews after which a NORMAL stream moves to REDUCED. */
        @WithDefault("300")
        int reduceAfterCleanReviews();

        /** How many of the latest reviews the tightening rule looks at. */
        @WithDefault("5")
        int tightenWindow();

        /** Rejections within the window that tighten a stream. */
        @WithDefault("2")
        int tightenRejections();

        /** Consecutive accepted reviews that restore TIGHTENED to NORMAL and SUSPENDED to TIGHTENED. */
        @WithDefault("50")
        int restoreAfterCleanReviews();

        /** Reviews in TIGHTENED before the suspension rule applies. */
        @WithDefault("20")
        int suspendMinReviews();

        /** A TIGHTENED stream is suspended when the lower credible bound of its error rate exceeds this. */
        @WithDefault("0.10")
        double suspendErrorRate();
    }

    interface Ledger {
        /** Decisions returned when a query names no page size. */
        @WithDefault("100")
        int defaultPageSize();

        /** Largest page a query may ask for (larger requests are capped). */
        @WithDefault("1000")
        int maxPageSize();
    }

    interface Metrics {
        /** How often the stream gauges are re-read from the ledger (read by the scheduler expression). */
        @WithDefault("15s")
        String refreshInterval();
    }
}
