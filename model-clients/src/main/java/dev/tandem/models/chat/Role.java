package dev.tandem.models.chat;

/** Who speaks in a chat message. */
public enum Role {
    /** Instructions that frame the conversation. */
    SYSTEM,
    /** The caller's request. */
    USER,
    /** An earlier model answer (few-shot examples, multi-turn). */
    ASSISTANT
}
