package dev.tandem.oracle;

import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * mTLS between services is configuration only (docs/operations.md, "mTLS"): the server requires a client
 * certificate from the trusted CA, and the oracle's own gRPC clients present theirs. Here the oracle calls its
 * router and audit fakes on its own TLS port, so a task that completes proves both sides. Test certificates in
 * src/test/resources/tls (a CA and one service certificate for serverAuth and clientAuth, SAN localhost, 100
 * years; a self-signed "stranger"), made with openssl req/x509.
 */
@QuarkusTest
@TestProfile(MutualTlsTests.MutualTlsProfile.class)
class MutualTlsTests extends OracleTestBase {

    static final String TLS = "src/test/resources/tls/";

    public static class MutualTlsProfile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // a fixed free port: the clients' port must be known when they are created, before the server starts
            int port;
            try (var socket = new java.net.ServerSocket(0)) {
                port = socket.getLocalPort();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            var p = new HashMap<String, String>();
            p.put("quarkus.tls.tandem.key-store.pem.service.cert", TLS + "service.crt");
            p.put("quarkus.tls.tandem.key-store.pem.service.key", TLS + "service.key");
            p.put("quarkus.tls.tandem.trust-store.pem.certs", TLS + "ca.crt");
            p.put("quarkus.http.tls-configuration-name", "tandem");
            p.put("quarkus.http.ssl.client-auth", "required");
            p.put("quarkus.http.insecure-requests", "disabled");
            p.put("quarkus.http.test-ssl-port", String.valueOf(port));
            for (var client : new String[] {"router", "audit", "oracle"}) {
                // the grpc-java clients take PEM files directly (the TLS registry serves the HTTP-port server)
                p.put("quarkus.grpc.clients." + client + ".plain-text", "false");
                p.put("quarkus.grpc.clients." + client + ".ssl.certificate", TLS + "service.crt");
                p.put("quarkus.grpc.clients." + client + ".ssl.key", TLS + "service.key");
                p.put("quarkus.grpc.clients." + client + ".ssl.trust-store", TLS + "ca.crt");
                p.put("quarkus.grpc.clients." + client + ".port", String.valueOf(port));
                p.put("quarkus.grpc.clients." + client + ".test-port", String.valueOf(port));
            }
            return p;
        }
    }

    private static ManagedChannel channel(String certName) throws Exception {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        var ssl = GrpcSslContexts.forClient().trustManager(new File(TLS + "ca.crt"));
        if (certName != null) {
            ssl.keyManager(new File(TLS + certName + ".crt"), new File(TLS + certName + ".key"));
        }
        return NettyChannelBuilder.forAddress("localhost", port).sslContext(ssl.build()).build();
    }

    @Test
    void aTaskRunsEndToEndOverMutualTls() {
        var response = oracle().execute(triage());
        assertThat(response.getStepsCount()).isPositive();
        assertThat(router.dispatches).isNotEmpty();
        assertThat(audit.decisions).isNotEmpty();
    }

    @Test
    void aClientWithATrustedCertificateIsServed() throws Exception {
        var ch = channel("service");
        try {
            var response = OracleServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .execute(triage());
            assertThat(response.getStepsCount()).isPositive();
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void aClientWithoutACertificateOrWithAnUntrustedOneIsRefused() throws Exception {
        for (var cert : new String[] {null, "stranger"}) {
            var ch = channel(cert);
            try {
                var e = catchThrowableOfType(StatusRuntimeException.class, () -> OracleServiceGrpc.newBlockingStub(ch)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).execute(triage()));
                assertThat(e.getStatus().getCode()).as("client certificate " + cert).isEqualTo(Status.Code.UNAVAILABLE);
            } finally {
                ch.shutdownNow();
            }
        }
        assertThat(router.dispatches).isEmpty();
    }
}
