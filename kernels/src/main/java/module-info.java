/**
 * Compute over weights a {@code WeightSource} hands out: CPU matvec kernels (Vector API, and their bit-identical
 * native twins in libstrata_kernels.so where it was built), the quantised block
 * kernels, the MoE decoder and the CUDA expert FFN over the native module's driver binding.
 */
module io.strata.kernels {
    requires transitive io.strata.core;
    requires transitive jdk.incubator.vector;
    requires io.strata.nativeaccess;

    exports io.strata.kernels.cpu;
    exports io.strata.kernels.cuda;
    exports io.strata.kernels.decoder;
    exports io.strata.kernels.quant;
}
