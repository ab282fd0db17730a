package io.strata.loader.kv;

/** The fast KV tier cannot take another page: everything resident is pinned or inside the sliding window. */
public class KvBudgetExceededException extends RuntimeException {
    public KvBudgetExceededException(String message) {
        super(message);
    }
}
