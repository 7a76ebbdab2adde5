package dev.tandem.oracle.service;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BoundedMemoTests {

    @Test
    void aRepeatedArgumentIsComputedOnceAndTheLeastRecentlyUsedGoesFirst() {
        List<String> computed = new ArrayList<>();
        var memo = new BoundedMemo<String, Integer>(2, s -> {
            computed.add(s);
            return s.length();
        });

        assertThat(memo.get("a")).isEqualTo(1);
        assertThat(memo.get("bb")).isEqualTo(2);
        assertThat(memo.get("a")).isEqualTo(1); // "a" is now the most recently used
        assertThat(computed).containsExactly("a", "bb");

        assertThat(memo.get("ccc")).isEqualTo(3); // over capacity: "bb" goes
        assertThat(memo.size()).isEqualTo(2);
        assertThat(memo.get("a")).isEqualTo(1);
        assertThat(memo.get("bb")).isEqualTo(2);
        assertThat(computed).containsExactly("a", "bb", "ccc", "bb");
    }

    @Test
    void aFailureIsNotRemembered() {
        int[] calls = {0};
        var memo = new BoundedMemo<String, Integer>(4, s -> {
            if (calls[0]++ == 0) {
                throw new IllegalStateException("first call fails");
            }
            return 7;
        });

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> memo.get("x"))
                .isInstanceOf(IllegalStateException.class);
        assertThat(memo.get("x")).isEqualTo(7);
    }
}
