package dev.tandem.worker.config;

import dev.tandem.models.batch.BatchCoordinator;
import dev.tandem.models.batch.BatchJournal;
import dev.tandem.models.batch.BatchSettings;
import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.worker.repository.BatchJournalRepository;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import dev.tandem.models.catalog.ModelCatalog;
import dev.tandem.models.catalog.ModelSpecs;
import io.quarkus.arc.InjectableInstance;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Builds the shared {@link ModelRegistry} from the model catalog ({@code tandem.catalog.*}, the catalog directory,
 * and the deprecated {@code tandem.models.*}); a bad entry stops the start naming its key. Its batch coordinator
 * journals provider batches in PostgreSQL when the worker's (optional) datasource is active, else in memory; at start
 * it polls on the batches the journal holds open.
 */
@ApplicationScoped
public class ModelRegistryProducer {

    private static final Logger LOG = Logger.getLogger(ModelRegistryProducer.class);

    // a singleton, not a client proxy: what it is (PostgreSQL or memory) is what the worker reports and tests see
    @Produces
    @Singleton
    BatchJournal batchJournal(TandemConfig config, InjectableInstance<AgroalDataSource> dataSources) {
        var batch = config.worker().batch();
        var active = dataSources.listActive();
        if (active.isEmpty()) {
            LOG.info("batch journal: in memory (no datasource configured, TANDEM_DB_URL unset): a restarted worker "
                    + "forgets the provider batches it had in flight");
            return BatchJournal.inMemory(batch.retention());
        }
        var journal = new BatchJournalRepository(active.getFirst(), batch.owner().orElseGet(ModelRegistryProducer::owner),
                batch.claimLease(), batch.retention());
        LOG.infof("batch journal: PostgreSQL (schema worker), batches claimed as %s", journal.owner());
        return journal;
    }

    @Produces
    @ApplicationScoped
    ModelRegistry modelRegistry(TandemConfig config, MeterRegistry meters, BatchJournal journal) {
        var catalog = ModelCatalog.forCallers(config.catalog(), config.models(), ConfigProvider.getConfig(), LOG::warn);
        if (!catalog.notCallable().isEmpty()) {
            LOG.infof("catalog models without a provider, not callable here: %s", catalog.notCallable());
        }
        var specs = ModelSpecs.registry(catalog.entries()).all();
        var batch = config.worker().batch();
        var registry = new ModelRegistry(specs, new BatchCoordinator(new BatchSettings(batch.maxItems(),
                batch.maxWait(), batch.pollInterval(), batch.retryLimit()), new BatchMetrics(meters), journal));
        registry.all().forEach(s -> LOG.info(ModelSpecs.describe(s)
                + (s.batch() ? (registry.batchesThroughProvider(s) ? "; batch path: the provider's batch API"
                : "; batch path: runs at once at its batch prices") : "")));
        return registry;
    }

    /** At start: the batches an earlier run left open are polled on (only where a model has a provider batch path). */
    void resumeBatches(@Observes StartupEvent start, ModelRegistry registry) {
        if (registry.all().stream().anyMatch(registry::batchesThroughProvider)) {
            registry.resumeBatches();
        }
    }

    void close(@Disposes ModelRegistry registry) {
        registry.close();
    }

    /** The host name (a pod's name) and HTTP port: two workers on one host claim apart. */
    private static String owner() {
        var host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "worker";
            }
        }
        return host + ":" + ConfigProvider.getConfig().getOptionalValue("quarkus.http.port", String.class).orElse("8082");
    }
}
