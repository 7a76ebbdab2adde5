import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.MappingIterator;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;

import java.io.File;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.*;

/**
 * Strict field check of rendered manifests against the fabric8 Kubernetes model (7.3.1, Kubernetes 1.33 API,
 * plus the Prometheus Operator monitoring.coreos.com/v1 model). fabric8 keeps fields it does not know in an
 * "additionalProperties" map instead of failing; this walks every deserialised object and reports any such
 * field with its path, so a misspelt or misplaced field (readinesProbe, spec.template.spec.resources...)
 * fails. Types are checked too: a value Jackson cannot bind (a string for an int port) fails.
 * Output: one line per object, "ok <kind>/<name>", "skip <kind>/<name>" (no fabric8 model) or "FAIL ...".
 */
public class Strict {
    public static void main(String[] args) throws Exception {
        ObjectMapper yaml = new YAMLMapper();
        ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        Set<String> allowGeneric = new HashSet<>(Arrays.asList(System.getProperty("allowGeneric", "").split(",")));
        int failures = 0;
        for (String file : args) {
            try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(new File(file))) {
                while (it.hasNext()) {
                    JsonNode doc = it.next();
                    if (doc == null || doc.isNull() || doc.isEmpty()) continue;
                    String gvk = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                    String id = file + " " + doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText();
                    try {
                        KubernetesResource r = json.treeToValue(doc, KubernetesResource.class);
                        if (r instanceof GenericKubernetesResource) {
                            if (allowGeneric.contains(gvk)) { System.out.println("skip " + id + " (" + gvk + ": no fabric8 model, checked by its JSON schema)"); continue; }
                            System.out.println("FAIL " + id + ": " + gvk + " is not a known Kubernetes type");
                            failures++; continue;
                        }
                        List<String> unknown = new ArrayList<>();
                        walk(r, "", unknown, Collections.newSetFromMap(new IdentityHashMap<>()));
                        if (unknown.isEmpty()) {
                            System.out.println("ok " + id);
                        } else {
                            failures++;
                            System.out.println("FAIL " + id + ": unknown fields " + unknown);
                        }
                    } catch (Exception e) {
                        failures++;
                        System.out.println("FAIL " + id + ": " + e.getMessage().replace('\n', ' '));
                    }
                }
            }
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    @SuppressWarnings("unchecked")
    static void walk(Object o, String path, List<String> unknown, Set<Object> seen) throws IllegalAccessException {
        if (o == null || !seen.add(o)) return;
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) walk(e, path + "[" + i++ + "]", unknown, seen);
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) walk(e.getValue(), path + "." + e.getKey(), unknown, seen);
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.")) return;
        for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) continue;
                f.setAccessible(true);
                Object v = f.get(o);
                if (f.getName().equals("additionalProperties") && v instanceof Map<?, ?> extra) {
                    for (Object k : extra.keySet()) unknown.add(path + "." + k);
                    continue;
                }
                walk(v, path + "." + f.getName(), unknown, seen);
            }
        }
    }
}
