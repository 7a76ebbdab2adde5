package dev.tandem.models.batch;

import dev.tandem.models.chat.Availability;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.ModelClient;

import java.util.function.Consumer;

/**
 * A model with a batch path: calls whose deadline is {@linkplain dev.tandem.models.chat.CallDeadline#deferred()
 * deferred} (BATCH-class steps) go through the provider's batch API via the {@link BatchCoordinator}; every other
 * call goes to the model's interactive client unchanged.
 */
public final class BatchingModelClient implements ModelClient {

    private final ModelClient interactive;
    private final BatchApi batches;
    private final BatchCoordinator coordinator;

    public BatchingModelClient(ModelClient interactive, BatchApi batches, BatchCoordinator coordinator) {
        this.interactive = interactive;
        this.batches = batches;
        this.coordinator = coordinator;
    }

    /** The model's provider batch API. */
    public BatchApi batches() {
        return batches;
    }

    @Override
    public String modelId() {
        return interactive.modelId();
    }

    @Override
    public Availability availability() {
        return interactive.availability();
    }

    @Override
    public ChatResponse chat(ChatRequest request) {
        if (request.deadline().deferred()) {
            return coordinator.call(modelId(), batches, request);
        }
        return interactive.chat(request);
    }

    /** Streaming answers are interactive by nature: always the interactive client. */
    @Override
    public ChatResponse stream(ChatRequest request, Consumer<String> onTextDelta) {
        return interactive.stream(request, onTextDelta);
    }

    @Override
    public void close() {
        interactive.close();
    }
}
