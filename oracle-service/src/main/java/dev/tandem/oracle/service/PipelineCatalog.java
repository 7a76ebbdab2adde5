package dev.tandem.oracle.service;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.mapping.PipelineDefinition;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The embedded planner's catalog: pipelines shipped in {@code pipelines/} (listed in {@code pipelines/index.json},
 * because a directory inside a jar cannot be listed portably) plus every {@code *.json} of the optional
 * {@code tandem.oracle.pipelines-dir}, which may also replace a shipped pipeline of the same name.
 */
@ApplicationScoped
public class PipelineCatalog {

    private static final Logger LOG = Logger.getLogger(PipelineCatalog.class);

    private final ObjectMapper mapper;
    private final OracleConfig config;

    private Map<String, PipelineDefinition> pipelines;

    public PipelineCatalog(ObjectMapper mapper, OracleConfig config) {
        this.mapper = mapper;
        this.config = config;
    }

    @PostConstruct
    void load() {
        var byName = new TreeMap<String, PipelineDefinition>();
        try {
            List<String> index;
            try (var in = resource("pipelines/index.json")) {
                index = mapper.readValue(in, new TypeReference<>() {
                });
            }
            for (var file : index) {
                try (var in = resource("pipelines/" + file)) {
                    add(byName, mapper.readValue(in, PipelineDefinition.class), "classpath:pipelines/" + file);
                }
            }
            if (config.pipelinesDir().isPresent()) {
                var dir = Path.of(config.pipelinesDir().get());
                try (var files = Files.list(dir)) {
                    for (var file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                        add(byName, mapper.readValue(file.toFile(), PipelineDefinition.class), file.toString());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the pipeline catalog", e);
        }
        pipelines = Map.copyOf(byName);
        LOG.infof("pipeline catalog: %d pipelines %s", pipelines.size(), byName.keySet());
    }

    private static void add(Map<String, PipelineDefinition> byName, PipelineDefinition p, String source) {
        if (p.name() == null || p.name().isBlank() || p.steps().isEmpty()) {
            throw new IllegalStateException("pipeline " + source + " needs a name and at least one step");
        }
        if (byName.put(p.name(), p) != null) {
            LOG.infof("pipeline '%s' from %s replaces the shipped one", p.name(), source);
        }
    }

    private static InputStream resource(String name) throws IOException {
        var in = Thread.currentThread().getContextClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + " is missing from the class path");
        }
        return in;
    }

    /** Every pipeline, by name in alphabetical order. */
    public Map<String, PipelineDefinition> all() {
        return new TreeMap<>(pipelines);
    }

    public Optional<PipelineDefinition> find(String name) {
        return Optional.ofNullable(pipelines.get(name));
    }

    public List<String> names() {
        return pipelines.keySet().stream().sorted().toList();
    }
}
