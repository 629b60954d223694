#!/usr/bin/env bash
# GPU validation of ntrain's CUDA backend (issue 6), for a Linux machine with an NVIDIA GPU and driver.
# Usage: scripts/gpu_check.sh [OUT_DIR]   (env: GPU=index to check, default 0; NTRAIN_NVRTC=libnvrtc path)
#
# Steps (each logged under OUT_DIR, default runs/gpu-check):
#   1. the driver as the system sees it (nvidia-smi);
#   2. NVRTC and cuBLAS: the CUDA toolkit's, NTRAIN_NVRTC / NTRAIN_CUBLAS, or else the
#      nvidia-cuda-nvrtc-cu12 and nvidia-cublas-cu12 wheels installed into .venv-nvrtc;
#   3. builds ntrain and the NTrainCore tests;
#   4. runs the CUDA tests: every kernel compiles to PTX, driver/allocator paths, and the GPU op check
#      (CUDAOpCheckTests: each kernel's forward/backward, and cuBLAS GEMM, against the CPU). The op
#      check must run, not skip, on a GPU machine: a skip fails this script;
#   5. `ntrain devices` (name, memory, compute capability of each GPU);
#   6. lenet-mnist for one epoch on gpux, then on cpux for comparison. Until tensor ops are wired to
#      the GPU, step 6 on gpux must fail with "cannot train on a GPU yet" (never train on the CPU
#      while claiming a GPU); the script checks exactly that.
# Exit status: 0 when every check passed, 1 otherwise. A summary is printed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/gpu-check}
GPU=${GPU:-0}
mkdir -p "$OUT"
failures=()
fail() { failures+=("$1"); echo "FAIL: $1"; }

echo "== 1. driver"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi | tee "$OUT/nvidia-smi.txt"
else
  fail "nvidia-smi not found: is the NVIDIA driver installed?"
fi

echo "== 2. NVRTC"
if [ -z "${NTRAIN_NVRTC:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so' && [ ! -e /usr/local/cuda/lib64/libnvrtc.so ]; then
  if ! ls .venv-nvrtc/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.* >/dev/null 2>&1; then
    python3 -m venv .venv-nvrtc && .venv-nvrtc/bin/pip install --quiet nvidia-cuda-nvrtc-cu12 \
      || fail "could not install nvidia-cuda-nvrtc-cu12"
  fi
fi

if [ -z "${NTRAIN_CUBLAS:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so' && ! ls /usr/local/cuda/lib64/libcublas.so* >/dev/null 2>&1; then
  if ! ls .venv-nvrtc/lib/python3*/site-packages/nvidia/cublas/lib/libcublas.so.* >/dev/null 2>&1; then
    [ -d .venv-nvrtc ] || python3 -m venv .venv-nvrtc
    .venv-nvrtc/bin/pip install --quiet nvidia-cublas-cu12 || echo "(cuBLAS not installed: its GEMM check will skip)"
  fi
fi

echo "== 3. build"
swift build --build-tests 2>&1 | tail -5 | tee "$OUT/build.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { fail "swift build --build-tests"; printf '%s\n' "${failures[@]}"; exit 1; }
swift build --product ntrain 2>&1 | tail -1

echo "== 4. CUDA tests (NVRTC compile, driver, allocator, GPU op check on gpu$GPU)"
NTRAIN_GPU_CHECK_DEVICE=$GPU swift test --skip-build --filter 'NTrainCoreTests.CUDA' 2>&1 | tee "$OUT/cuda-tests.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "CUDA tests failed (see $OUT/cuda-tests.log)"
if grep -q "CUDAOpCheckTests.*skipped\|Test skipped.*no usable GPU" "$OUT/cuda-tests.log"; then
  fail "the GPU op check skipped: $(grep -m1 -o 'no usable GPU[^\"]*' "$OUT/cuda-tests.log")"
fi
if grep -q "cuBLAS GEMM not checked" "$OUT/cuda-tests.log"; then
  fail "the cuBLAS GEMM check skipped: $(grep -m1 -o 'cuBLAS GEMM not checked[^\"]*' "$OUT/cuda-tests.log" | cut -c1-200)"
fi
if grep -q "CUDANVRTCTests.*skipped\|libnvrtc not found" "$OUT/cuda-tests.log"; then
  fail "the NVRTC tests skipped: no libnvrtc found"
fi

echo "== 5. ntrain devices"
.build/debug/ntrain devices | tee "$OUT/devices.txt"
grep -q "^gpu" "$OUT/devices.txt" || fail "ntrain devices lists no GPU line"

echo "== 6. lenet-mnist, 1 epoch, gpux then cpux"
.build/debug/ntrain download mnist >/dev/null 2>&1 || echo "(mnist download failed; training will report it)"
.build/debug/ntrain train configs/lenet-mnist.json --device gpux --epochs 1 --out "$OUT/lenet-gpu" --quiet \
  >"$OUT/lenet-gpu.log" 2>&1
gpu_status=$?
cat "$OUT/lenet-gpu.log"
if grep -q "cannot train on a GPU yet" "$OUT/lenet-gpu.log"; then
  echo "gpux refused as expected: GPU training is not wired yet (exit $gpu_status)"
  [ "$gpu_status" -ne 0 ] || fail "gpux was refused but ntrain exited 0"
elif [ "$gpu_status" -ne 0 ]; then
  fail "lenet-mnist on gpux exited $gpu_status"
elif ! grep -qi "gpu0" "$OUT/lenet-gpu.log"; then
  fail "lenet-mnist on gpux did not report gpu0 as its device"
fi
.build/debug/ntrain train configs/lenet-mnist.json --device cpux --epochs 1 --out "$OUT/lenet-cpu" --quiet \
  >"$OUT/lenet-cpu.log" 2>&1 || fail "lenet-mnist on cpux"
tail -3 "$OUT/lenet-cpu.log"

echo
if [ "${#failures[@]}" -eq 0 ]; then
  echo "GPU check passed (logs in $OUT)"
else
  echo "GPU check: ${#failures[@]} failure(s):"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
