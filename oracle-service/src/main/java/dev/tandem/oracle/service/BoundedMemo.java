package dev.tandem.oracle.service;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The results of a pure function for its most recently used arguments, at most {@code capacity} of them (least
 * recently used out first). For work a task repeats with the same argument on every call, such as checking the
 * plan of a catalog pipeline, which is the same plan for every task that names it. The function runs outside the
 * lock: two threads may both compute a missing value, and the function must not depend on anything but its
 * argument.
 */
final class BoundedMemo<K, V> {

    private final Function<K, V> function;
    private final Map<K, V> recent;

    BoundedMemo(int capacity, Function<K, V> function) {
        this.function = function;
        this.recent = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > capacity;
            }
        };
    }

    V get(K key) {
        V value;
        synchronized (recent) {
            value = recent.get(key);
        }
        if (value == null) {
            value = function.apply(key);
            synchronized (recent) {
                recent.put(key, value);
            }
        }
        return value;
    }

    int size() {
        synchronized (recent) {
            return recent.size();
        }
    }
}
