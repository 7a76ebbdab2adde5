package dev.tandem.router;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;

/**
 * Resolves {@code addresses:///host:port,host:port} to those addresses, as DNS resolves a headless Kubernetes
 * Service to its pods: a pool of several worker replicas in tests. Registered by the tests that use it (a
 * {@code META-INF/services} entry is not seen from the application's class loader in a Quarkus test).
 */
public class AddressListResolverProvider extends NameResolverProvider {

    public static final String SCHEME = "addresses";

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 5;
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
        if (!SCHEME.equals(target.getScheme())) {
            return null;
        }
        List<EquivalentAddressGroup> groups = new ArrayList<>();
        for (String hostPort : target.getPath().substring(1).split(",")) {
            int colon = hostPort.lastIndexOf(':');
            groups.add(new EquivalentAddressGroup(new InetSocketAddress(hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1)))));
        }
        return new NameResolver() {
            @Override
            public String getServiceAuthority() {
                return "worker-replicas";
            }

            @Override
            public void start(Listener2 listener) {
                listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(
                        io.grpc.StatusOr.fromValue(groups)).build());
            }

            @Override
            public void shutdown() {
            }
        };
    }
}
