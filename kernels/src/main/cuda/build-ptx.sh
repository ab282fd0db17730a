#!/bin/sh
# Regenerates the committed PTX resource from expert_kernels.cu. The CUDA toolkit (nvcc 13.0) is needed only
# here, never at run time: the driver JIT-compiles this PTX for the GPU it runs on (compute_80 covers A100,
# H100 (sm_90) and newer).
#
# nvcc 13 stamps its PTX ".version 9.0", which only CUDA 13 drivers accept. These kernels use nothing newer
# than PTX ISA 7.0 (shfl.sync, fma, ex2.approx, ld.global.nc), so the stamp is lowered to 7.0 (the first ISA
# with sm_80), which any driver from CUDA 11.0 on can JIT; ptxas then checks that the lowered file assembles
# for sm_80 and sm_90.
set -eu
cd "$(dirname "$0")"
PTXAS="${PTXAS:-$(command -v ptxas || echo /usr/local/cuda-13.0/bin/ptxas)}"
OUT=../resources/io/strata/kernels/cuda/expert_kernels.ptx
nvcc -ptx -arch=compute_80 -O3 -std=c++17 -o "$OUT" expert_kernels.cu
sed -i 's/^\.version 9\.0$/.version 7.0/' "$OUT"
grep -q '^\.version 7\.0$' "$OUT"
for sm in sm_80 sm_90; do
  "$PTXAS" -arch=$sm -o /dev/null "$OUT"
done
echo "wrote $OUT"
