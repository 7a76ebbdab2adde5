package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.util.List;

/** JSON Schema (draft 2020-12) compilation and validation through networknt's validator. */
public final class JsonSchemas {

    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    private JsonSchemas() {
    }

    /** Compiles a schema; fails with the library's message when it is not a usable schema. */
    public static JsonSchema compile(JsonNode schema) {
        var compiled = FACTORY.getSchema(schema);
        compiled.initializeValidators();
        return compiled;
    }

    /** The violations of a document against a schema, as readable messages; empty when valid. */
    public static List<String> violations(JsonSchema schema, JsonNode document) {
        return schema.validate(document).stream().map(ValidationMessage::getMessage).sorted().toList();
    }
}
