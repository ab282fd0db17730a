package io.strata.core.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a tensor is for, in DOPPLER's RDRR vocabulary. */
public enum Role {
    EMBEDDING, LM_HEAD, NORM, MATMUL, EXPERT, ROUTER, OTHER;

    @JsonValue
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Role fromJson(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
