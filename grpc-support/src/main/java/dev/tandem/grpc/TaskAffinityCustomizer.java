package dev.tandem.grpc;

import java.util.Map;

import io.grpc.ManagedChannelBuilder;
import io.quarkus.grpc.api.ChannelBuilderCustomizer;
import io.quarkus.grpc.runtime.config.GrpcClientConfiguration;
import org.jboss.logging.Logger;

/**
 * Gives one Quarkus gRPC client ({@code quarkus.grpc.clients.<name>}) the {@link TaskAffinity} service config, the
 * Quarkus way: a {@link ChannelBuilderCustomizer}'s returned map becomes the channel's default service config, whose
 * load-balancing config then takes precedence over the client's {@code load-balancing-policy}. With one address
 * (localhost) the ring has one entry and behaves as a single connection. Not a bean: each service declares one for
 * its router client with its own on/off setting, typed with its transport's builder ({@code NettyChannelBuilder},
 * Quarkus' default): Quarkus looks customizers up as {@code ChannelBuilderCustomizer<?>}, which a raw bean type
 * does not match. The builder is not touched, so any transport's works.
 *
 * @param <T> the channel builder type the bean is declared for
 */
public class TaskAffinityCustomizer<T extends ManagedChannelBuilder<T>> implements ChannelBuilderCustomizer<T> {

    private static final Logger LOG = Logger.getLogger(TaskAffinityCustomizer.class);

    private final String client;
    private final boolean enabled;

    /**
     * @param client  the client's name, as in {@code @GrpcClient("router")}
     * @param enabled false: the client keeps its configured policy ({@code load-balancing-policy})
     */
    protected TaskAffinityCustomizer(String client, boolean enabled) {
        this.client = client;
        this.enabled = enabled;
    }

    @Override
    public Map<String, Object> customize(String name, GrpcClientConfiguration config, T builder) {
        if (!client.equals(name)) {
            return Map.of();
        }
        if (!enabled) {
            LOG.infof("gRPC client %s: task affinity off, load-balancing policy %s", name, config.loadBalancingPolicy());
            return Map.of();
        }
        LOG.infof("gRPC client %s: task affinity on (ring_hash on header %s)", name, TaskAffinity.HEADER.name());
        return TaskAffinity.serviceConfig();
    }
}
