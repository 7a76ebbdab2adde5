package dev.tandem.models.chat;

/** The instruction that carries a response schema in the prompt, for servers that cannot enforce it. */
public final class SchemaPrompt {

    private SchemaPrompt() {
    }

    /** The system text with the schema instruction appended. */
    public static String withSchema(String system, ResponseSchema schema) {
        var instruction = "Respond with a single JSON object and nothing else. It must conform to this JSON Schema:\n"
                + schema.schema().toString();
        return system.isBlank() ? instruction : system + "\n\n" + instruction;
    }
}
