package dev.tandem.models.chat;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A JSON schema the answer must follow (structured output). Each provider sends it its own way: OpenAI-style
 * {@code response_format}, vLLM guided decoding, an Anthropic tool, or instructions in the prompt.
 *
 * @param name   a short identifier the providers require ({@code [a-zA-Z0-9_-]{1,64}})
 * @param schema the JSON schema (draft 2020-12 subset the providers accept)
 */
public record ResponseSchema(String name, JsonNode schema) {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    public ResponseSchema {
        Objects.requireNonNull(schema, "schema");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("schema name must match " + NAME + ", was '" + name + "'");
        }
        if (!schema.isObject()) {
            throw new IllegalArgumentException("schema must be a JSON object");
        }
    }
}
