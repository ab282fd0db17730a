package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import io.strata.storage.synth.SyntheticCheckpoint;
import io.strata.testdata.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Small random-weight MoE checkpoints whose vocabulary is one of the shared real tokenizers' (the tokenizer files
 * copied beside the weights, as a Hugging Face checkpoint has them), converted through the real CLI.
 */
final class TextModels {
    /** mistral-sp32k's 32000 tokens; Qwen3's 151669 padded to its config's 151936, as the real model has it. */
    static final int MISTRAL_VOCAB = 32000;
    static final int QWEN3_VOCAB = 151936;

    private TextModels() {
    }

    /** A checkpoint in {@code dir} with the tokenizer files of {@code tokenizers/NAME}. */
    static Path checkpoint(Path dir, String tokenizer, ModelFamily family, int vocab) throws IOException {
        SyntheticCheckpoint.builder().family(family).dtype(DType.BF16).hidden(64).intermediate(96).layers(2)
                .heads(4).kvHeads(2).headDim(16).experts(4).topK(2).vocab(vocab).shards(1).seed(17).write(dir);
        Path src = TestData.dir("tokenizers/" + tokenizer);
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.equals("tokenizer.json") || n.equals("tokenizer_config.json") || n.equals("chat_template.jinja")) {
                    Files.copy(f, dir.resolve(n));
                }
            }
        }
        return dir;
    }

    static Path convert(Path checkpoint, Path out) {
        Cli.Run r = Cli.run("shard-convert", checkpoint.toString(), out.toString(), "-q");
        assertEquals(0, r.code(), r.err());
        return out;
    }
}
