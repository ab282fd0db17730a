package io.strata.p2p.store;

import io.strata.core.manifest.BundledFile;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.core.manifest.ShardInfo;
import java.io.IOException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The one rule for shard file names taken from a manifest (which may come from a stranger): a plain name of
 * letters, digits, '_', '-' and inner dots ending in {@code .bin}, as {@code shard-convert} writes them. Nothing
 * else is accepted, so a manifest cannot name a path outside the output, a user's file ({@code notes.txt}) or one
 * of Strata's own files ({@code manifest.json}, {@code manifest.json.tmp}, {@code manifest.sig}, temporaries, the
 * staging directory); and no two shards may share a name, ignoring case (case-insensitive file systems). Bundled
 * tokenizer files may only have the fixed Hugging Face names of {@link TokenizerInfo#FILE_NAMES}.
 */
public final class ShardNames {
    public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,99}(\\.[A-Za-z0-9_-]{1,32}){0,3}\\.bin");

    private ShardNames() {
    }

    /** Checks every shard name of {@code m} ({@code source} names the manifest in the message). */
    public static void check(Manifest m, String source) throws IOException {
        Set<String> seen = new HashSet<>();
        for (ShardInfo s : m.shards()) {
            String name = s.filename();
            if (name == null || !PATTERN.matcher(name).matches()) {
                throw new IOException(source + ": shards[" + s.index() + "].filename '" + printable(name)
                        + "' is not a shard file name (expected e.g. shard_00000.bin: " + PATTERN.pattern() + ")");
            }
            if (!seen.add(name.toLowerCase(Locale.ROOT))) {
                throw new IOException(source + ": shards[" + s.index() + "].filename '" + name
                        + "' names the same file as an earlier shard");
            }
        }
        if (m.tokenizer() != null) {
            for (BundledFile b : m.tokenizer().files()) {
                if (!TokenizerInfo.FILE_NAMES.contains(b.filename())) { // the manifest validator refuses it too
                    throw new IOException(source + ": tokenizer file '" + printable(b.filename())
                            + "' is not one of " + TokenizerInfo.FILE_NAMES);
                }
            }
        }
    }

    private static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(s.length(), 120); i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return s.length() > 120 ? b + "..." : b.toString();
    }
}
