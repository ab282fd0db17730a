package io.strata.nativeaccess.cuda;

/** A CUDA driver call that returned an error: names the call, the CUresult, its name and the driver's text. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String function;
    private final int code;
    private final String errorName;

    public CudaException(String function, int code, String errorName, String errorText) {
        super(function + " failed: " + errorName + " (" + code + "): " + errorText);
        this.function = function;
        this.code = code;
        this.errorName = errorName;
    }

    /** The driver function that failed, e.g. {@code cuMemAlloc_v2}. */
    public String function() {
        return function;
    }

    /** The raw CUresult. */
    public int code() {
        return code;
    }

    /** The CUresult's name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
