package io.strata.text;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code decoder} of a tokenizer.json: turns the tokens of a list of ids back into text. Each step maps a
 * list of token strings to a new list (Hugging Face's decode_chain); the result is the concatenation. Supported:
 * ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace, WordPiece, BPEDecoder, Sequence.
 */
interface Decoder {
    List<String> decodeChain(List<String> tokens);

    static Decoder fromJson(Spec s) {
        if (s == null) {
            return null;
        }
        String type = s.type();
        return switch (type) {
            case "ByteLevel" -> byteLevel();
            case "ByteFallback" -> Decoder::byteFallback;
            case "Fuse" -> tokens -> List.of(String.join("", tokens));
            case "Replace" -> {
                Normalizer r = Normalizer.replace(s.pattern("pattern"), s.str("content"));
                yield tokens -> tokens.stream().map(r::normalize).toList();
            }
            case "Strip" -> strip(s.str("content"), s.integer("start", 0), s.integer("stop", 0), s);
            case "Metaspace" -> metaspace(s);
            case "WordPiece" -> wordPiece(s.str("prefix", "##"), s.bool("cleanup", true));
            case "BPEDecoder" -> {
                String suffix = s.str("suffix", "</w>");
                yield tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        out.add(tokens.get(i).replace(suffix, i == tokens.size() - 1 ? "" : " "));
                    }
                    return out;
                };
            }
            case "Sequence" -> {
                List<Decoder> steps = s.array("decoders").stream().map(Decoder::fromJson).toList();
                yield tokens -> {
                    for (Decoder d : steps) {
                        tokens = d.decodeChain(tokens);
                    }
                    return tokens;
                };
            }
            default -> throw s.fail("decoder type '" + type + "' is not supported");
        };
    }

    /** The byte-level decoder (GPT-2 alphabet back to UTF-8). */
    static Decoder byteLevel() {
        return tokens -> {
            ByteSink bytes = new ByteSink();
            for (String t : tokens) {
                ByteLevel.decodeInto(t, bytes);
            }
            return List.of(bytes.lossy());
        };
    }

    /**
     * SentencePiece's decoder as Llama/Mistral tokenizer.json files spell it: ▁ to space, byte tokens to UTF-8,
     * fuse, and optionally drop the one leading space the encoder's prefix added.
     */
    static Decoder sentencePiece(boolean stripPrefixSpace) {
        Normalizer spaces = Normalizer.replace(Pattern.compile("\u2581"), " ");
        return tokens -> {
            List<String> t = byteFallback(tokens.stream().map(spaces::normalize).toList());
            String text = String.join("", t);
            return List.of(stripPrefixSpace && text.startsWith(" ") ? text.substring(1) : text);
        };
    }

    /** Runs of {@code <0xXX>} tokens become their UTF-8 text, or one U+FFFD per byte when they are not UTF-8. */
    static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteSink run = new ByteSink();
        for (String t : tokens) {
            int b = byteToken(t);
            if (b >= 0) {
                run.append((byte) b);
                continue;
            }
            flushBytes(run, out);
            out.add(t);
        }
        flushBytes(run, out);
        return out;
    }

    private static void flushBytes(ByteSink run, List<String> out) {
        if (run.size() == 0) {
            return;
        }
        String s = run.strictOrNull();
        if (s != null) {
            out.add(s);
        } else {
            for (int i = 0; i < run.size(); i++) {
                out.add("\uFFFD");
            }
        }
        run.truncate(0);
    }

    /** The byte of a {@code <0xXX>} token, or -1. */
    static int byteToken(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(t.charAt(3), 16);
        int lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static Decoder strip(String content, int start, int stop, Spec s) {
        if (content.codePointCount(0, content.length()) != 1) {
            throw s.req("content").fail("must be one character");
        }
        int c = content.codePointAt(0);
        return tokens -> tokens.stream().map(t -> {
            int[] cps = t.codePoints().toArray();
            int b = 0;
            while (b < start && b < cps.length && cps[b] == c) {
                b++;
            }
            int e = cps.length;
            for (int i = 0; i < stop && e > b && cps[e - 1] == c; i++) {
                e--;
            }
            return new String(cps, b, e - b);
        }).toList();
    }

    private static Decoder metaspace(Spec s) {
        String rep = s.str("replacement", "\u2581");
        boolean prefixed = s.has("prepend_scheme") ? !s.str("prepend_scheme").equals("never")
                : s.bool("add_prefix_space", true);
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                out.add(i == 0 && prefixed ? t.replace(rep, "") : t.replace(rep, " "));
            }
            return out;
        };
    }

    private static Decoder wordPiece(String prefix, boolean cleanup) {
        Pattern[] from = {Pattern.compile(" \\."), Pattern.compile(" \\?"), Pattern.compile(" !"), Pattern.compile(" ,"),
                Pattern.compile(" ' "), Pattern.compile(" n't"), Pattern.compile(" 'm"), Pattern.compile(" do not"),
                Pattern.compile(" 's"), Pattern.compile(" 've"), Pattern.compile(" 're")};
        String[] to = {".", "?", "!", ",", "'", "n't", "'m", " don't", "'s", "'ve", "'re"};
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                if (i != 0) {
                    t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
                }
                if (cleanup) {
                    for (int k = 0; k < from.length; k++) {
                        t = from[k].matcher(t).replaceAll(to[k]);
                    }
                }
                out.add(t);
            }
            return out;
        };
    }
}
