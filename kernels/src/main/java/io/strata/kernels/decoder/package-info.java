/**
 * The reference MoE decoder (Mixtral, Qwen3-MoE). Entry points: {@link io.strata.kernels.decoder.MoeDecoder}
 * (per model, over a {@code WeightSource}), {@link io.strata.kernels.decoder.Sequence} (per sequence, over a
 * {@code KvCache}: {@code forward}, {@code step}, {@code generate}), {@link io.strata.kernels.decoder.Sampler},
 * {@link io.strata.kernels.decoder.StepListener} / {@link io.strata.kernels.decoder.ForwardStep} (per-pass logits,
 * routing, timings), {@link io.strata.kernels.decoder.Routing} (trace export) and {@link
 * io.strata.kernels.decoder.HeapKvCache}. Random-weight models of any shape for tests and benchmarks are a test
 * fixture ({@code SyntheticMoeModel}, in this module's test-jar).
 */
package io.strata.kernels.decoder;
