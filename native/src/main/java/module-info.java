/**
 * What a platform may lack, behind optional capabilities: the CUDA driver binding ({@code CudaDriver.load()} is
 * empty where no driver exists), the POSIX page-cache call and anonymous (huge-page) memory mappings. The only
 * other native code in Strata is the kernels module's own matvec library (io.strata.kernels.cpu.NativeKernels),
 * built from its C sources.
 */
module io.strata.nativeaccess {
    exports io.strata.nativeaccess.cuda;
    exports io.strata.nativeaccess.posix;
}
