package dev.tandem.grpc;

import com.google.rpc.Code;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps an error status within what a client accepts. The status travels in HTTP/2 trailers (grpc-message,
 * percent-encoded, and the google.rpc.Status with the BadRequest again in grpc-status-details-bin, base64), and a
 * grpc-java client refuses trailers over 8 KiB (its default maxInboundMetadataSize): the call then fails INTERNAL,
 * "RST_STREAM ... PROTOCOL_ERROR", and the client learns nothing. Refusals quote the request (a pipeline name, the
 * inputs given), so a request within the bounds could produce one that large.
 */
public final class TrailerBudget {

    /** Encoded bytes of message and details together; the rest of the 8 KiB is left for the other headers. */
    static final int MAX_ENCODED = 6 * 1024;
    /** The message's share: it travels twice, in grpc-message and in the details' google.rpc.Status. */
    static final int MAX_MESSAGE_ENCODED = 3 * 1024;
    static final int MAX_MESSAGE_CHARS = 1000;
    static final int MAX_FIELD_CHARS = 200;
    static final int MAX_DESCRIPTION_CHARS = 500;

    private TrailerBudget() {
    }

    /** What a refusal carries once it fits: its message and as many of its violations as fit, in order. */
    public record Fitted(String message, List<FieldViolation> violations) {
    }

    /**
     * The message and as many of the violations, in order, as fit; each one's text cut to a readable length. The
     * message says how many were left out.
     */
    public static Fitted fit(String message, List<FieldViolation> violations) {
        var shortened = description(message);
        var kept = new ArrayList<FieldViolation>();
        for (var v : violations) {
            kept.add(new FieldViolation(excerpt(v.field(), MAX_FIELD_CHARS),
                    excerpt(v.description(), MAX_DESCRIPTION_CHARS)));
            if (encodedSize(shortened, kept) > MAX_ENCODED && kept.size() > 1) {
                kept.removeLast();
                break;
            }
        }
        var shown = kept.size() == violations.size() ? shortened
                : shortened + " (" + (violations.size() - kept.size()) + " more violation(s) not shown)";
        return new Fitted(shown, kept);
    }

    /** A status description that fits the trailers with room for details: cut (with an ellipsis) when it would not. */
    public static String description(String message) {
        var text = excerpt(message, MAX_MESSAGE_CHARS);
        while (percentEncoded(text) + text.getBytes(StandardCharsets.UTF_8).length * 4 / 3 > MAX_MESSAGE_ENCODED) {
            text = excerpt(text, text.length() * 3 / 4); // only text far from ASCII is this large
        }
        return text;
    }

    /** The text, cut to at most {@code maxChars} characters with an ellipsis when it is longer. */
    public static String excerpt(String text, int maxChars) {
        if (text.length() <= maxChars) {
            return text;
        }
        int end = maxChars - 1;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // never half a character
        }
        return text.substring(0, end) + "…";
    }

    /** grpc-message plus grpc-status-details-bin (the google.rpc.Status, base64). */
    private static int encodedSize(String message, List<FieldViolation> violations) {
        int status = com.google.rpc.Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(message)
                .addDetails(BadRequestDetail.of(violations)).build().getSerializedSize();
        return percentEncoded(message) + (status + 2) / 3 * 4;
    }

    /** grpc-message's length: every UTF-8 byte outside printable ASCII, and '%', takes three characters. */
    // (Java bytes are signed: every byte of a multi-byte character is below ' ')
    private static int percentEncoded(String message) {
        int size = 0;
        for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
            size += b < ' ' || b >= '~' || b == '%' ? 3 : 1;
        }
        return size;
    }
}
