package dev.tandem.models.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * One chat call, provider-neutral.
 *
 * @param messages       the conversation, at least one message
 * @param responseSchema structured output: the JSON schema the answer must follow
 * @param logprobs       ask for per-token log probabilities (only honoured by models that have them)
 * @param topLogprobs    alternatives per token position when {@code logprobs} is set (0 = none)
 * @param maxTokens      upper bound on generated tokens; the model's configured default when empty
 * @param temperature    sampling temperature; the provider's default when empty
 * @param model          per-call model name, overriding the configured provider model
 * @param replayKey      for the replay provider: the text the recorded answer is looked up by (the step's
 *                       question); live providers ignore it; without it replay uses the last user message
 * @param deadline       the caller's deadline and cancellation: the request's timeout is the time left (at most
 *                       the model's configured timeout) and a cancellation aborts the request in flight
 * @param callKey        names the call (the step's idempotency key): a batch path names the provider batch item after
 *                       it, so a repeat of the call joins the waiting item; interactive clients ignore it
 */
public record ChatRequest(List<ChatMessage> messages, Optional<ResponseSchema> responseSchema, boolean logprobs,
                          int topLogprobs, OptionalInt maxTokens, OptionalDouble temperature, Optional<String> model,
                          Optional<String> replayKey, CallDeadline deadline, Optional<String> callKey) {

    public ChatRequest {
        messages = List.copyOf(messages);
        deadline = deadline == null ? CallDeadline.none() : deadline;
        callKey = callKey == null ? Optional.empty() : callKey.filter(k -> !k.isBlank());
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a chat request needs at least one message");
        }
        if (topLogprobs < 0 || topLogprobs > 20) {
            throw new IllegalArgumentException("top_logprobs must be in [0, 20], was " + topLogprobs);
        }
        if (maxTokens.isPresent() && maxTokens.getAsInt() < 1) {
            throw new IllegalArgumentException("max tokens must be positive, was " + maxTokens.getAsInt());
        }
    }

    /** The system messages joined by blank lines, empty when there is none. */
    public String systemText() {
        return String.join("\n\n", messages.stream().filter(m -> m.role() == Role.SYSTEM)
                .map(ChatMessage::content).toList());
    }

    /** The last user message, or empty. */
    public Optional<String> lastUserText() {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                return Optional.of(messages.get(i).content());
            }
        }
        return Optional.empty();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ChatRequest}. */
    public static final class Builder {
        private final List<ChatMessage> messages = new ArrayList<>();
        private ResponseSchema schema;
        private boolean logprobs;
        private int topLogprobs;
        private Integer maxTokens;
        private Double temperature;
        private String model;
        private String replayKey;
        private CallDeadline deadline;
        private String callKey;

        public Builder system(String content) {
            messages.add(ChatMessage.system(content));
            return this;
        }

        public Builder user(String content) {
            messages.add(ChatMessage.user(content));
            return this;
        }

        public Builder assistant(String content) {
            messages.add(ChatMessage.assistant(content));
            return this;
        }

        public Builder message(ChatMessage message) {
            messages.add(message);
            return this;
        }

        public Builder responseSchema(ResponseSchema responseSchema) {
            this.schema = responseSchema;
            return this;
        }

        /** Asks for log probabilities with {@code top} alternatives per position. */
        public Builder logprobs(int top) {
            this.logprobs = true;
            this.topLogprobs = top;
            return this;
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder temperature(double temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder replayKey(String replayKey) {
            this.replayKey = replayKey;
            return this;
        }

        /** The caller's deadline and cancellation; none by default. */
        public Builder deadline(CallDeadline deadline) {
            this.deadline = deadline;
            return this;
        }

        /** Names the call (the step's idempotency key); none by default. */
        public Builder callKey(String callKey) {
            this.callKey = callKey;
            return this;
        }

        public ChatRequest build() {
            return new ChatRequest(messages, Optional.ofNullable(schema), logprobs, logprobs ? topLogprobs : 0,
                    maxTokens == null ? OptionalInt.empty() : OptionalInt.of(maxTokens),
                    temperature == null ? OptionalDouble.empty() : OptionalDouble.of(temperature),
                    Optional.ofNullable(model), Optional.ofNullable(replayKey), deadline, Optional.ofNullable(callKey));
        }
    }
}
