package dev.tandem.models;

/** How a model is reached. */
public enum Provider {
    /** An ONNX sentence encoder running in-process: the offline default, no endpoint needed. */
    EMBEDDED,
    /** An OpenAI-compatible Chat Completions server (vLLM, SGLang, TGI, llama.cpp, Ollama, LM Studio, OpenAI). */
    OPENAI,
    /** Anthropic's Messages API. */
    ANTHROPIC,
    /** Recorded responses replayed from a dataset. */
    REPLAY
}
