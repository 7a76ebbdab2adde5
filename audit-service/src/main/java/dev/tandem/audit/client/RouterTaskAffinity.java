package dev.tandem.audit.client;

import jakarta.inject.Singleton;

import dev.tandem.audit.config.AuditConfig;
import dev.tandem.grpc.TaskAffinityCustomizer;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.arc.Unremovable;

/**
 * The shadow reviewer's router client balances by task ({@code tandem.audit.review.router-task-affinity}): Quarkus
 * applies this customizer when it builds the {@code router} client's channel.
 */
@Singleton
@Unremovable // looked up by Quarkus' channel factory, not injected
public class RouterTaskAffinity extends TaskAffinityCustomizer<NettyChannelBuilder> {

    public RouterTaskAffinity(AuditConfig config) {
        super("router", config.review().routerTaskAffinity());
    }
}
