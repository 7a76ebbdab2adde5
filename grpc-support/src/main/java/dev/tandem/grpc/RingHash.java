package dev.tandem.grpc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A channel that balances by a consistent hash of one request header: grpc-java's ring_hash policy (grpc-xds, gRFC
 * A61) with gRFC A76's request hash header. Calls with the same header value reach the same address while it is up;
 * a call without the header gets a random hash, so those spread over every address. The ring is built from the
 * addresses alone (their order does not matter), so every client process with the same addresses picks the same
 * one for a value: a restarted client reaches the replica its predecessor used. When an address goes away only its
 * part of the ring moves; a pick whose address is down goes to the next one on the ring. Used by the router's
 * worker-pool channels ({@code tandem-call-key}) and the oracle's and audit's router clients ({@link TaskAffinity}).
 */
public final class RingHash {

    /**
     * A76's request_hash_header is still behind this flag in grpc-java 1.79 (read from the environment or a system
     * property when a service config is parsed); without it the policy ignores the header and every pick is random.
     */
    static final String REQUEST_HASH_HEADER_FLAG = "GRPC_EXPERIMENTAL_RING_HASH_SET_REQUEST_HASH_KEY";

    static {
        if (System.getenv(REQUEST_HASH_HEADER_FLAG) == null) {
            System.setProperty(REQUEST_HASH_HEADER_FLAG, "true");
        }
    }

    private RingHash() {
    }

    /**
     * The service config of a channel balanced by {@code header} (a printable ASCII header; not {@code -bin}), for
     * {@code ManagedChannelBuilder.defaultServiceConfig}. Enables the request hash header flag unless the
     * environment sets it.
     */
    public static Map<String, Object> serviceConfig(String header) {
        if (header.endsWith(io.grpc.Metadata.BINARY_HEADER_SUFFIX)) {
            throw new IllegalArgumentException("ring_hash cannot hash a binary header: " + header);
        }
        return Map.of("loadBalancingConfig", List.of(Map.of(
                "ring_hash_experimental", Map.of("requestHashHeader", header))));
    }

    /**
     * A header value for {@code value}: its SHA-256, URL-safe Base64 without padding (43 characters). The channel
     * only hashes it; the value may hold any character, and a header value must be printable ASCII.
     */
    public static String digest(String value) {
        byte[] digest = sha256().digest(value.getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    }

    /**
     * A SHA-256 digest of its own (one is not thread-safe), cloned from one looked up once: the provider look-up of
     * {@code MessageDigest.getInstance} cost more than hashing a task key, on every keyed router call.
     */
    private static MessageDigest sha256() {
        try {
            return (MessageDigest) SHA_256.clone();
        } catch (CloneNotSupportedException e) {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException missing) {
                throw new IllegalStateException(missing);
            }
        }
    }

    private static final MessageDigest SHA_256;

    static {
        try {
            SHA_256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
