package dev.tandem.grpc;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;

import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.grpc.runtime.config.GrpcClientConfiguration;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The task affinity header and the service config the router clients balance with. How the balancing behaves with
 * several router replicas is tested where the clients are (oracle {@code RouterTaskAffinityTests}).
 */
class TaskAffinityTests {

    @Test
    void aTasksHeaderIsTheSameInEveryProcessAndPrintable() {
        String value = TaskAffinity.of("acme", "task-1");

        assertThat(TaskAffinity.of("acme", "task-1")).isEqualTo(value);
        // SHA-256, URL-safe Base64 without padding: a valid ASCII header value whatever the tenant and task hold
        assertThat(value).hasSize(43).matches("[A-Za-z0-9_-]+");
        assertThat(TaskAffinity.of("ténant ünïcode\n", "task/with spaces")).hasSize(43).matches("[A-Za-z0-9_-]+");
    }

    @Test
    void theDigestIsSha256AndStaysRightOnManyThreadsAtOnce() throws Exception {
        // the FIPS 180-2 test vector "abc", URL-safe Base64 without padding
        assertThat(RingHash.digest("abc")).isEqualTo("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        // each digest is a clone of one prototype: threads hashing at the same time must not share its state
        try (var threads = java.util.concurrent.Executors.newFixedThreadPool(8)) {
            var futures = new java.util.ArrayList<java.util.concurrent.Future<Boolean>>();
            for (int t = 0; t < 8; t++) {
                futures.add(threads.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        if (!RingHash.digest("abc").equals("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (var f : futures) {
                assertThat(f.get()).isTrue();
            }
        }
    }

    @Test
    void tasksAndTenantsGetTheirOwnHeader() {
        assertThat(TaskAffinity.of("acme", "task-1")).isNotEqualTo(TaskAffinity.of("acme", "task-2"))
                .isNotEqualTo(TaskAffinity.of("globex", "task-1"));
        // the tenant's length goes first: a "/" in a tenant or a task id cannot make two pairs one text
        assertThat(TaskAffinity.of("a/b", "c")).isNotEqualTo(TaskAffinity.of("a", "b/c"));
    }

    @Test
    void theServiceConfigHashesTheTaskHeaderWithRingHash() {
        assertThat(TaskAffinity.serviceConfig()).isEqualTo(Map.of("loadBalancingConfig", List.of(Map.of(
                "ring_hash_experimental", Map.of("requestHashHeader", "tandem-task-key")))));
        // grpc-java 1.79 reads the header only with this flag; the environment may set it, else the class does
        assertThat(System.getenv(RingHash.REQUEST_HASH_HEADER_FLAG) != null
                || "true".equals(System.getProperty(RingHash.REQUEST_HASH_HEADER_FLAG))).isTrue();
    }

    @Test
    void aBinaryHeaderCannotBeHashed() {
        assertThatThrownBy(() -> RingHash.serviceConfig("tandem-key-bin"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("binary");
    }

    @Test
    void theCustomizerConfiguresOnlyItsClientAndOnlyWhenOn() {
        class Customizer extends TaskAffinityCustomizer<NettyChannelBuilder> {
            Customizer(boolean enabled) {
                super("router", enabled);
            }
        }
        NettyChannelBuilder builder = NettyChannelBuilder.forTarget("dns:///router:8081");
        assertThat(new Customizer(true).customize("router", null, builder)).isEqualTo(TaskAffinity.serviceConfig());
        assertThat(new Customizer(true).customize("audit", null, builder)).isEmpty();
        // off: no service config, the client's own load-balancing-policy applies
        assertThat(new Customizer(false).customize("router", clientConfig("round_robin"), builder)).isEmpty();
    }

    /** A client's configuration as Quarkus passes it, with the given load-balancing-policy. */
    private static GrpcClientConfiguration clientConfig(String policy) {
        return (GrpcClientConfiguration) Proxy.newProxyInstance(GrpcClientConfiguration.class.getClassLoader(),
                new Class<?>[] {GrpcClientConfiguration.class}, (proxy, method, args) -> {
                    if (method.getName().equals("loadBalancingPolicy")) {
                        return policy;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
