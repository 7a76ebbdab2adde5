package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tandem.models.confidence.TokenConfidence.Span;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Character spans of values in a JSON text, found with Jackson's streaming parser, so token probabilities can be
 * taken over the answer and not over keys and punctuation the schema forces.
 */
final class JsonSpans {

    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonSpans() {
    }

    /**
     * The spans of every scalar value under the given top-level fields (all fields when empty), offset by
     * {@code base} (where the JSON starts in the generated text).
     */
    static List<Span> values(String json, int base, List<String> topLevelFields) {
        var out = new ArrayList<Span>();
        try (JsonParser parser = FACTORY.createParser(json)) {
            int depth = 0;
            String topField = null;
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                switch (token) {
                    case START_OBJECT, START_ARRAY -> depth++;
                    case END_OBJECT, END_ARRAY -> depth--;
                    case FIELD_NAME -> {
                        if (depth == 1) {
                            topField = parser.currentName();
                        }
                    }
                    default -> {
                        if (token.isScalarValue() && (topLevelFields.isEmpty() || topLevelFields.contains(topField))) {
                            int start = (int) parser.currentTokenLocation().getCharOffset();
                            if (token == JsonToken.VALUE_STRING) {
                                // Jackson reads a string's characters lazily: until they are read, the parser
                                // stands just after the opening quote, and the span would hold the quote alone
                                parser.getTextLength();
                                int end = (int) parser.currentLocation().getCharOffset();
                                // the characters between the quotes, not the quotes the schema forces
                                out.add(new Span(base + start + 1, base + Math.max(start + 1, end - 1)));
                            } else {
                                int end = (int) parser.currentLocation().getCharOffset();
                                out.add(new Span(base + start, base + end));
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return out;
    }

    /** Where the first character of a top-level string field's value is (after its opening quote). */
    static Optional<Integer> stringValueStart(String json, int base, String field) {
        try (JsonParser parser = FACTORY.createParser(json)) {
            int depth = 0;
            JsonToken token;
            boolean wanted = false;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                    depth++;
                } else if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
                    depth--;
                } else if (token == JsonToken.FIELD_NAME) {
                    wanted = depth == 1 && field.equals(parser.currentName());
                } else if (wanted && token == JsonToken.VALUE_STRING) {
                    return Optional.of(base + (int) parser.currentTokenLocation().getCharOffset() + 1);
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
