/**
 * What a platform may lack, behind optional capabilities: the CUDA driver binding ({@code CudaDriver.load()} is
 * empty where no driver exists) and the POSIX page-cache call. Nothing else in Strata calls native code directly.
 */
module io.strata.nativeaccess {
    exports io.strata.nativeaccess.cuda;
    exports io.strata.nativeaccess.posix;
}
