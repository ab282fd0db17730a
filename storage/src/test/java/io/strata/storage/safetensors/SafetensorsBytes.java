package io.strata.storage.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes hand-made safetensors files (header JSON as given, any data) for header validation tests. */
public final class SafetensorsBytes {
    private SafetensorsBytes() {
    }

    public static Path write(Path file, String header, int dataBytes) throws IOException {
        return write(file, header, dataBytes, -1);
    }

    /** {@code declaredLength} overrides the 8-byte header length when not negative. */
    public static Path write(Path file, String header, int dataBytes, long declaredLength) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength >= 0 ? declaredLength : h.length);
        b.put(h);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) i);
        }
        Files.write(file, b.array());
        return file;
    }
}
