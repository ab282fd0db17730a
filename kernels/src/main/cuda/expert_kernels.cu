// Strata expert kernels for the CUDA device tier (decode: one token, so matrix x vector).
// Weights are row-major [out][in] as the checkpoint stores a linear layer; x and y are F32.
// One warp per output row: lanes stride over the row (coalesced loads), then a shuffle reduction.
// Launch: block = (32 * WARPS_PER_BLOCK), grid = ceil(rows / WARPS_PER_BLOCK); any blockDim.x multiple of 32 works.
// Built into expert_kernels.ptx by build-ptx.sh (the exact nvcc command is there).

#include <cstdint>

__device__ __forceinline__ float warp_sum(float v) {
    #pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_down_sync(0xffffffffu, v, offset);
    }
    return v;
}

__device__ __forceinline__ float bf16_to_f32(uint16_t b) {
    return __uint_as_float(((uint32_t) b) << 16);
}

__device__ __forceinline__ float silu(float v) {
    return v / (1.0f + __expf(-v));
}

__device__ __forceinline__ int warp_row() {
    return (int) ((blockIdx.x * (unsigned long long) blockDim.x + threadIdx.x) >> 5);
}

// y[r] = sum_c W[r][c] * x[c]
extern "C" __global__ void matvec_f32(const float* __restrict__ w, const float* __restrict__ x,
                                      float* __restrict__ y, int rows, int cols) {
    int row = warp_row();
    int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* wr = w + (long long) row * cols;
    float acc = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        acc = fmaf(wr[c], x[c], acc);
    }
    acc = warp_sum(acc);
    if (lane == 0) y[row] = acc;
}

// Same with BF16 weights (the raw 16-bit patterns); accumulation in F32.
extern "C" __global__ void matvec_bf16(const uint16_t* __restrict__ w, const float* __restrict__ x,
                                       float* __restrict__ y, int rows, int cols) {
    int row = warp_row();
    int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const uint16_t* wr = w + (long long) row * cols;
    float acc = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        acc = fmaf(bf16_to_f32(wr[c]), x[c], acc);
    }
    acc = warp_sum(acc);
    if (lane == 0) y[row] = acc;
}

// The gated half of a SwiGLU expert, fused: h[r] = silu(W1[r] . x) * (W3[r] . x).
extern "C" __global__ void swiglu_f32(const float* __restrict__ w1, const float* __restrict__ w3,
                                      const float* __restrict__ x, float* __restrict__ h, int rows, int cols) {
    int row = warp_row();
    int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const float* g = w1 + (long long) row * cols;
    const float* u = w3 + (long long) row * cols;
    float ag = 0.0f, au = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        float xc = x[c];
        ag = fmaf(g[c], xc, ag);
        au = fmaf(u[c], xc, au);
    }
    ag = warp_sum(ag);
    au = warp_sum(au);
    if (lane == 0) h[row] = silu(ag) * au;
}

extern "C" __global__ void swiglu_bf16(const uint16_t* __restrict__ w1, const uint16_t* __restrict__ w3,
                                       const float* __restrict__ x, float* __restrict__ h, int rows, int cols) {
    int row = warp_row();
    int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const uint16_t* g = w1 + (long long) row * cols;
    const uint16_t* u = w3 + (long long) row * cols;
    float ag = 0.0f, au = 0.0f;
    for (int c = lane; c < cols; c += 32) {
        float xc = x[c];
        ag = fmaf(bf16_to_f32(g[c]), xc, ag);
        au = fmaf(bf16_to_f32(u[c]), xc, au);
    }
    ag = warp_sum(ag);
    au = warp_sum(au);
    if (lane == 0) h[row] = silu(ag) * au;
}
