/**
 * ggml's block-quantised weight formats on the CPU: {@link io.strata.kernels.quant.Dequantize} (the scalar
 * reference, llama.cpp's definitions), {@link io.strata.kernels.quant.Quantize} (round-to-nearest, for tests and
 * synthetic models) and {@link io.strata.kernels.quant.QuantMatVec} (Vector API y = W x straight from the blocks,
 * float activations, row ranges for threading; deterministic like the kernels in {@code io.strata.kernels.cpu}).
 */
package io.strata.kernels.quant;
