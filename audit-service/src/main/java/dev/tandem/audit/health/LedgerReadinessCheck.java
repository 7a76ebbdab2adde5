package dev.tandem.audit.health;

import java.sql.PreparedStatement;
import java.sql.ResultSet;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.tandem.audit.repository.Ledger;

/**
 * Ready when the ledger schema is migrated and queryable (the Agroal check only proves a connection): Decide
 * must not be routed here before its tables exist.
 */
@Readiness
@ApplicationScoped
public class LedgerReadinessCheck implements HealthCheck {

    private final Ledger ledger;

    public LedgerReadinessCheck(Ledger ledger) {
        this.ledger = ledger;
    }

    @Override
    public HealthCheckResponse call() {
        try {
            long streams = ledger.withConnection(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM streams");
                        ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            return HealthCheckResponse.named("audit-ledger").up().withData("streams", streams).build();
        } catch (RuntimeException e) {
            return HealthCheckResponse.named("audit-ledger").down().withData("error", e.getMessage()).build();
        }
    }
}
