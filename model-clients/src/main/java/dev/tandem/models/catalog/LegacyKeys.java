package dev.tandem.models.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;

import org.eclipse.microprofile.config.Config;

/**
 * The keys the catalog replaces, read for one more release: for each one that is set, a warning naming the key
 * of the catalog that says the same.
 * <ul>
 *   <li>{@code tandem.models."<id>".<key>} (worker, oracle) and {@code tandem.router.models."<id>".<key>} (router):
 *       {@code tandem.catalog.models."<id>".<key>};</li>
 *   <li>{@code tandem.router.pools.<pool>.models=a,b}: {@code tandem.catalog.models."a".pools=<pool>} for each
 *       model;</li>
 *   <li>{@code tandem.router.catalog.dir}: {@code tandem.catalog.dir};</li>
 * </ul>
 * and the same as environment variables ({@code TANDEM_MODELS__QWEN__BASE_URL}:
 * {@code TANDEM_CATALOG_MODELS__QWEN__BASE_URL}).
 */
public final class LegacyKeys {

    private LegacyKeys() {
    }

    /** One warning per deprecated key the configuration sets, in name order. */
    public static List<String> warnings(Config config) {
        return warnings(config.getPropertyNames(), name -> config.getOptionalValue(name, String.class));
    }

    /**
     * One warning per deprecated key among the names, in name order.
     *
     * @param names property names, as the configuration lists them
     * @param value a name's value (for the pools' model lists)
     */
    public static List<String> warnings(Iterable<String> names, Function<String, Optional<String>> value) {
        List<String> out = new ArrayList<>();
        TreeSet<String> sorted = new TreeSet<>();
        names.forEach(sorted::add);
        for (String name : sorted) {
            replacement(name, value).ifPresent(newForm -> out.add(name + " is deprecated and read for one more "
                    + "release only: write " + newForm + " (docs/operations.md, Model catalog)"));
        }
        return out;
    }

    /** The key of the catalog that replaces a deprecated key; empty when the key is not deprecated. */
    static Optional<String> replacement(String name, Function<String, Optional<String>> value) {
        if (name.startsWith("%")) {
            // a profile's key: the configuration also lists it without the profile when the profile is active
            return Optional.empty();
        }
        for (String prefix : List.of("tandem.models.", "tandem.router.models.")) {
            if (name.startsWith(prefix) && name.length() > prefix.length()) {
                return Optional.of("tandem.catalog.models." + name.substring(prefix.length()));
            }
        }
        if (name.equals("tandem.router.catalog.dir")) {
            return Optional.of("tandem.catalog.dir");
        }
        if (name.startsWith("tandem.router.pools.") && name.endsWith(".models")) {
            String pool = name.substring("tandem.router.pools.".length(), name.length() - ".models".length());
            return Optional.of(poolMembership(value.apply(name), model -> "tandem.catalog.models.\"" + model
                    + "\".pools=" + unquote(pool)));
        }
        String upper = name.toUpperCase(Locale.ROOT);
        if (!name.equals(upper)) {
            return Optional.empty();
        }
        for (String prefix : List.of("TANDEM_MODELS_", "TANDEM_ROUTER_MODELS_")) {
            if (name.startsWith(prefix) && name.length() > prefix.length()) {
                return Optional.of("TANDEM_CATALOG_MODELS_" + name.substring(prefix.length()));
            }
        }
        if (name.equals("TANDEM_ROUTER_CATALOG_DIR")) {
            return Optional.of("TANDEM_CATALOG_DIR");
        }
        if (name.startsWith("TANDEM_ROUTER_POOLS_") && name.endsWith("_MODELS")) {
            String pool = name.substring("TANDEM_ROUTER_POOLS_".length(), name.length() - "_MODELS".length())
                    .replace("_", "").toLowerCase(Locale.ROOT);
            return Optional.of(poolMembership(value.apply(name), model -> "TANDEM_CATALOG_MODELS__"
                    + model.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_") + "__POOLS=" + pool));
        }
        return Optional.empty();
    }

    private static String poolMembership(Optional<String> models, Function<String, String> key) {
        List<String> keys = new ArrayList<>();
        for (String model : models.orElse("").split(",")) {
            if (!model.isBlank()) {
                keys.add(key.apply(model.strip()));
            }
        }
        String each = keys.isEmpty() ? key.apply("<id>") : String.join(", ", keys);
        return each + " (adding the pool to any a model already lists)";
    }

    private static String unquote(String id) {
        return id.length() > 1 && id.startsWith("\"") && id.endsWith("\"") ? id.substring(1, id.length() - 1) : id;
    }
}
