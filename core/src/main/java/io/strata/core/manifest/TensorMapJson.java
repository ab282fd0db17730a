package io.strata.core.manifest;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code tensors} map: a tensor is one JSON object, or an array of objects (one per TP slice). */
final class TensorMapJson {
    private TensorMapJson() {
    }

    static final class Writer extends JsonSerializer<Map<String, List<TensorInfo>>> {
        @Override
        public void serialize(Map<String, List<TensorInfo>> map, JsonGenerator gen, SerializerProvider sp)
                throws IOException {
            gen.writeStartObject();
            for (Map.Entry<String, List<TensorInfo>> e : map.entrySet()) {
                gen.writeFieldName(e.getKey());
                if (e.getValue().size() == 1) {
                    sp.defaultSerializeValue(e.getValue().getFirst(), gen);
                } else {
                    gen.writeStartArray();
                    for (TensorInfo t : e.getValue()) {
                        sp.defaultSerializeValue(t, gen);
                    }
                    gen.writeEndArray();
                }
            }
            gen.writeEndObject();
        }
    }

    static final class Reader extends JsonDeserializer<Map<String, List<TensorInfo>>> {
        @Override
        public Map<String, List<TensorInfo>> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw ctx.wrongTokenException(p, Map.class, JsonToken.START_OBJECT, "tensors must be an object");
            }
            Map<String, List<TensorInfo>> out = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                List<TensorInfo> entries = new ArrayList<>();
                if (t == JsonToken.START_ARRAY) {
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        entries.add(ctx.readValue(p, TensorInfo.class));
                    }
                } else {
                    entries.add(ctx.readValue(p, TensorInfo.class));
                }
                out.put(name, entries);
            }
            return out;
        }
    }
}
