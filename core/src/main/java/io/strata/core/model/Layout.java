package io.strata.core.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How a 2-D weight's bytes are ordered. {@code ROW}: as in the checkpoint, [rows][cols]. {@code COLUMN}: the
 * stored bytes are the transpose, [cols][rows]; the manifest keeps the checkpoint shape as originalShape.
 */
public enum Layout {
    ROW, COLUMN;

    @JsonValue
    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Layout fromJson(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
