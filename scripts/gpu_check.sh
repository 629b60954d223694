#!/usr/bin/env bash
# GPU validation of ntrain's CUDA backend (issue 6), for a Linux machine with an NVIDIA GPU and driver.
# Usage: scripts/gpu_check.sh [OUT_DIR]   (env: GPU=index to check, default 0; NTRAIN_NVRTC=libnvrtc path)
#
# Steps (each logged under OUT_DIR, default runs/gpu-check):
#   1. the driver as the system sees it (nvidia-smi);
#   2. NVRTC and cuBLAS: the CUDA toolkit's, NTRAIN_NVRTC / NTRAIN_CUBLAS, or else the
#      nvidia-cuda-nvrtc-cu12 and nvidia-cublas-cu12 wheels installed into .venv-nvrtc;
#   3. builds ntrain and the NTrainCore tests;
#   4. runs the CUDA and GPU tests on the real GPU (NTRAIN_GPU_TENSOR_TESTS=real): every kernel
#      compiles to PTX, driver/allocator paths, the kernel op check (CUDAOpCheckTests, cuBLAS GEMM
#      included), tensor ops forward/backward against the CPU (GPUTensorOpsTests, GPUConvOpsTests),
#      every backend primitive against the CPU backend (BackendTests)
#      and training against the CPU (GPUTrainingTests). The op check must run, not skip: a skip
#      fails this script;
#   5. `ntrain devices` (name, memory, compute capability of each GPU);
#   6. lenet-mnist.json trained on gpux (all its epochs), then its best checkpoint evaluated on gpux
#      and on cpux: the test accuracy must be >= 98.9% and the same on both devices;
#   7. speed: one epoch of LeNet (batch 64) and of the CIFAR CNN with ntrain-bench on gpux, and with
#      PyTorch CUDA eager (scripts/bench_torch.py, BENCH_DEVICE=cuda) when torch with CUDA imports.
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

echo "== 4. CUDA and GPU tests (NVRTC compile, driver, allocator, op check, tensor ops, training on gpu$GPU)"
NTRAIN_GPU_CHECK_DEVICE=$GPU NTRAIN_GPU_TENSOR_TESTS=real swift test --skip-build --filter 'CUDA|GPU|Backend|UnaryOpDefinition' 2>&1 | tee "$OUT/cuda-tests.log"
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

echo "== 6. lenet-mnist on gpux, then its best checkpoint evaluated on gpux and cpux"
.build/debug/ntrain download mnist >/dev/null 2>&1 || echo "(mnist download failed; training will report it)"
.build/debug/ntrain train configs/lenet-mnist.json --device gpux --out "$OUT/lenet-gpu" --quiet >"$OUT/lenet-gpu.log" 2>&1 \
  || fail "lenet-mnist on gpux exited $? (see $OUT/lenet-gpu.log)"
tail -5 "$OUT/lenet-gpu.log"
grep -q "device gpu0" "$OUT/lenet-gpu/train.log" 2>/dev/null || fail "lenet-mnist on gpux did not log gpu0 as its device"
for d in gpux cpux; do
  .build/debug/ntrain eval "$OUT/lenet-gpu/best.mge" --device $d --json >"$OUT/eval-$d.json" 2>"$OUT/eval-$d.err" \
    || fail "eval on $d (see $OUT/eval-$d.err)"
done
python3 - "$OUT" <<'PY' || fail "lenet-mnist accuracy check (see above)"
import json, sys
out = sys.argv[1]
acc = {d: json.load(open(f"{out}/eval-{d}.json"))["accuracy"] for d in ("gpux", "cpux")}
print("test accuracy:", acc)
assert acc["gpux"] >= 0.989, f"gpux accuracy {acc['gpux']} < 0.989"
assert abs(acc["gpux"] - acc["cpux"]) < 1e-9, "the checkpoint evaluates differently on the two devices"
PY

echo "== 7. speed: one epoch of LeNet b64 and the CIFAR CNN b4, ntrain on gpux vs PyTorch CUDA eager"
swift build -c release --product ntrain-bench 2>&1 | tail -1
for cfg in lenet-mnist cifar10-cnn; do
  MGE_DEFAULT_DEVICE=gpux .build/release/ntrain-bench train configs/$cfg.json "$OUT/bench-$cfg" 1 2>&1 | tail -2 | tee -a "$OUT/speed.txt"
done
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  for w in lenet cifar; do BENCH_DEVICE=cuda python3 scripts/bench_torch.py $w 2>&1 | grep RESULT | tee -a "$OUT/speed.txt"; done
else
  echo "(PyTorch with CUDA not importable here: install it to time PyTorch eager on this GPU)" | tee -a "$OUT/speed.txt"
fi

echo
if [ "${#failures[@]}" -eq 0 ]; then
  echo "GPU check passed (logs in $OUT)"
else
  echo "GPU check: ${#failures[@]} failure(s):"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
