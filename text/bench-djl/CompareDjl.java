import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.strata.text.Tokenizer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The measurement behind the text module's library choice: DJL's binding of the Hugging Face tokenizers library
 * (Rust, native) against strata-text, on the same 1 MB text, interleaved over rounds in one JVM, plus a check that
 * both give the same ids for the whole megabyte. Not part of the build. Run from the repository root:
 *
 * <pre>
 * ./mvnw -q -pl text -am test-compile dependency:build-classpath -Dmdep.outputFile=$PWD/text/target/cp.txt \
 *     -Dmdep.includeScope=runtime
 * ./mvnw -q -f text/bench-djl/pom.xml dependency:copy-dependencies -DoutputDirectory=target/lib
 * java -cp "text/target/classes:text/target/test-classes:$(cat text/target/cp.txt):text/bench-djl/target/lib/*" \
 *     text/bench-djl/CompareDjl.java testdata/target/expanded/tokenizers
 * </pre>
 */
public class CompareDjl {
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        String text = megabyte();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (String name : new String[]{"qwen3", "mistral-sp32k", "gpt-oss"}) {
            Path json = root.resolve(name).resolve("tokenizer.json");
            long c = mx.getCurrentThreadCpuTime();
            long w = System.nanoTime();
            HuggingFaceTokenizer djl = HuggingFaceTokenizer.builder().optTokenizerPath(json).optAddSpecialTokens(false)
                    .optTruncation(false).build();
            System.out.printf("%-14s load  djl   %5.0f ms wall %5.0f ms cpu(java thread)%n", name, (System.nanoTime() - w) / 1e6,
                    (mx.getCurrentThreadCpuTime() - c) / 1e6);
            c = mx.getCurrentThreadCpuTime();
            w = System.nanoTime();
            Tokenizer own = Tokenizer.load(json);
            System.out.printf("%-14s load  strata %5.0f ms wall %5.0f ms cpu%n", name, (System.nanoTime() - w) / 1e6,
                    (mx.getCurrentThreadCpuTime() - c) / 1e6);
            long[] a = djl.encode(text).getIds();
            int[] b = own.encode(text, false);
            boolean same = a.length == b.length;
            for (int i = 0; same && i < a.length; i++) {
                same = a[i] == b[i];
            }
            System.out.printf("%-14s 1 MB: %d ids, identical: %s%n", name, b.length, same);
            for (int round = 0; round < 5; round++) {
                c = mx.getCurrentThreadCpuTime();
                w = System.nanoTime();
                djl.encode(text);
                double dw = (System.nanoTime() - w) / 1e6;
                double dc = (mx.getCurrentThreadCpuTime() - c) / 1e6;
                c = mx.getCurrentThreadCpuTime();
                w = System.nanoTime();
                own.encode(text, false);
                double sw = (System.nanoTime() - w) / 1e6;
                double sc = (mx.getCurrentThreadCpuTime() - c) / 1e6;
                System.out.printf("%-14s round %d  djl %6.0f ms wall %6.0f cpu | strata %6.0f ms wall %6.0f cpu | wall ratio djl/strata %.2f%n",
                        name, round, dw, dc, sw, sc, dw / sw);
            }
            djl.close();
        }
    }

    static String megabyte() throws Exception {
        var m = Class.forName("io.strata.text.EncodeSpeedTest").getDeclaredMethod("megabyte");
        m.setAccessible(true);
        return (String) m.invoke(null);
    }
}
