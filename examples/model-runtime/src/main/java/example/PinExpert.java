package example;

import io.strata.core.model.ExpertProjection;
import io.strata.core.weights.TensorView;
import io.strata.loader.cache.ExpertHandle;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.loader.runtime.RuntimeOptions;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;

/** Pages one expert of a converted model through Strata's ModelRuntime: open, pin an expert, read a tensor, close. */
public final class PinExpert {
    public static void main(String[] args) {
        Path model = Path.of(args[0]);
        int layer = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        int expert = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        RuntimeOptions options = RuntimeOptions.builder().hostBudget(256L << 20).noDiskCache().build();
        try (ModelRuntime runtime = ModelRuntime.open(model, options)) {
            try (ExpertHandle pinned = runtime.expert(layer, expert)) { // pinned: never evicted until closed
                TensorView w1 = pinned.tensor(ExpertProjection.GATE); // w1 / gate_proj
                long sum = 0;
                for (long i = 0; i < w1.data().byteSize(); i++) {
                    sum += w1.data().get(ValueLayout.JAVA_BYTE, i) & 0xff;
                }
                System.out.printf("layer %d expert %d: %s %s %s, %d bytes, byte sum %d%n", layer, expert,
                        w1.name(), w1.dtype(), Arrays.toString(w1.shape()), w1.data().byteSize(), sum);
            }
            System.out.print(runtime.telemetry().format());
        }
    }
}
