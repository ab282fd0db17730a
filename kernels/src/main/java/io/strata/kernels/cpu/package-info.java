/**
 * CPU compute kernels over {@link java.lang.foreign.MemorySegment} weights: {@link io.strata.kernels.cpu.MatVec}
 * (F32/F16/BF16, row- or column-major, TP-slice offsets; Vector API with a scalar reference), {@link
 * io.strata.kernels.cpu.Int8MatVec} (per-row scales), {@link io.strata.kernels.cpu.RmsNorm}, {@link
 * io.strata.kernels.cpu.Rope} (rotate-half), {@link io.strata.kernels.cpu.Attention} (GQA over a {@code KvCache}),
 * {@link io.strata.kernels.cpu.Softmax}, {@link io.strata.kernels.cpu.SwiGlu}, {@link io.strata.kernels.cpu.TopK}.
 * Every kernel is deterministic: the same inputs give the same bits in any JIT state and on any thread.
 */
package io.strata.kernels.cpu;
