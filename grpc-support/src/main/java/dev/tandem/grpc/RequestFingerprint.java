package dev.tandem.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * What a keyed call's repeat is compared by, in the router and the worker: a key names one request, and a repeat
 * must be the same request. The caller clears what may differ between a call and its repeat (the key itself, the
 * budget left, the attempt number) before fingerprinting.
 */
public final class RequestFingerprint {

    private RequestFingerprint() {
    }

    /** SHA-256 of the request's deterministic serialization (map entries in key order). */
    public static ByteString of(Message request) {
        try {
            var bytes = new byte[request.getSerializedSize()];
            var out = CodedOutputStream.newInstance(bytes);
            out.useDeterministicSerialization();
            request.writeTo(out);
            out.checkNoSpaceLeft();
            return ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
