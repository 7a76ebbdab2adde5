package dev.tandem.router.budget;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;

/**
 * A spending limit a step is checked against: what the task has left, or a tenant's limit over its window.
 *
 * @param tenant   the tenant for a tenant budget, null for the task budget
 * @param leftUsd  what may still be spent
 * @param limitUsd the limit (for a task budget: what it had left when the step started)
 * @param spentUsd what was spent of the limit so far (unknown, 0, for a task budget)
 * @param window   the tenant budget's window, null for the task budget
 */
public record Budget(String tenant, double leftUsd, double limitUsd, double spentUsd, Duration window) {

    public static Budget task(double leftUsd) {
        return new Budget(null, leftUsd, leftUsd, 0, null);
    }

    public static Budget tenant(String tenant, double limitUsd, double spentUsd, Duration window) {
        return new Budget(tenant, Math.max(0, limitUsd - spentUsd), limitUsd, spentUsd, window);
    }

    public boolean isTask() {
        return tenant == null;
    }

    /** "task" or "tenant", the label of the budget_rejections metric. */
    public String kind() {
        return isTask() ? "task" : "tenant";
    }

    public boolean fits(double estimateUsd) {
        return estimateUsd <= leftUsd + 1e-15;
    }

    /** The budget in words, for example {@code tenant 'acme' budget (limit $5.00 per 24h, spent $4.99, $0.01 left)}. */
    public String describe() {
        if (isTask()) {
            return "task budget ($" + usd(leftUsd) + " left)";
        }
        return "tenant '" + tenant + "' budget (limit $" + usd(limitUsd) + " per " + human(window) + ", spent $"
                + usd(spentUsd) + ", $" + usd(leftUsd) + " left)";
    }

    /** Dollars with up to six decimals and at least two: 5.00, 4.9995, 0.0012. */
    static String usd(double v) {
        BigDecimal d = BigDecimal.valueOf(v).setScale(6, RoundingMode.HALF_UP)
                .stripTrailingZeros();
        return d.scale() < 2 ? d.setScale(2).toPlainString() : d.toPlainString();
    }

    static String human(Duration d) {
        if (d == null) {
            return "window";
        }
        long s = d.toSeconds();
        if (s % 86_400 == 0 && s > 86_400) {
            return s / 86_400 + "d";
        }
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
