package dev.tandem.oracle.client;

import jakarta.inject.Singleton;

import dev.tandem.grpc.TaskAffinityCustomizer;
import dev.tandem.oracle.config.OracleConfig;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.arc.Unremovable;

/**
 * The router client's channel balances by task ({@code tandem.oracle.router.task-affinity}): Quarkus applies this
 * customizer when it builds the {@code router} client's channel.
 */
@Singleton
@Unremovable // looked up by Quarkus' channel factory, not injected
public class RouterTaskAffinity extends TaskAffinityCustomizer<NettyChannelBuilder> {

    public RouterTaskAffinity(OracleConfig config) {
        super("router", config.router().taskAffinity());
    }
}
