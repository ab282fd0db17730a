package io.strata.text;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Strict UTF-8 for text that becomes tokens (prompt files, stdin lines, templates): invalid bytes are an error
 * naming the source and the byte offset, never silently replaced, since a replaced byte changes the ids.
 */
public final class Utf8 {
    private Utf8() {
    }

    /** The text of a file, or a TokenizerException naming the file and the offset of the first invalid byte. */
    public static String readStrict(Path file) {
        return decodeStrict(readBytes(file), file.toString());
    }

    /** The bytes of a file, or a TokenizerException naming it. */
    static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file + ": no such file");
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The text of {@code bytes}; {@code source} names them in the error. */
    public static String decodeStrict(byte[] bytes, String source) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) {
            r = d.flush(out);
        }
        if (r.isError()) {
            throw new TokenizerException(source + ": invalid UTF-8 at byte offset " + in.position());
        }
        return out.flip().toString();
    }
}
