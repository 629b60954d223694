extension CUDAKernels {
    /// Arithmetic with NumPy broadcasting (strides 0 on broadcast axes), scalar ops, fills, in-place
    /// accumulation and strided copies (permute, pad, concat, broadcast all are one strided copy).
    /// Mirrors Elementwise.swift, Ops/Unary.swift and Ops/StridedCopy.swift.
    public static let elementwise = CUDAKernelSource(name: "elementwise.cu", body: """
    #define NT_BINARY(NAME, EXPR) \\
    extern "C" __global__ void NAME##_f32(const float* __restrict__ a, const float* __restrict__ b, \\
                                          float* __restrict__ out, i64 n) { \\
        NT_GRID_STRIDE(i, n) { float x = a[i], y = b[i]; out[i] = (EXPR); } \\
    } \\
    extern "C" __global__ void NAME##_broadcast_f32(const float* __restrict__ a, const float* __restrict__ b, \\
                                                    float* __restrict__ out, i64 n, NTStridedIndex index) { \\
        NT_GRID_STRIDE(i, n) { \\
            i64 ia, ib; \\
            nt_offsets(index, i, &ia, &ib); \\
            float x = a[ia], y = b[ib]; \\
            out[i] = (EXPR); \\
        } \\
    }

    NT_BINARY(add, x + y)
    NT_BINARY(sub, x - y)
    NT_BINARY(mul, x * y)
    NT_BINARY(div, x / y)
    // The divisor's gradient: -(g·a) / (b·b), with g·a and b·b computed by mul first (as the CPU).
    NT_BINARY(neg_div, -x / y)

    // out = a·s (Kernels.scale) and out = a + s (scalar add).
    extern "C" __global__ void scale_f32(const float* __restrict__ a, float* __restrict__ out, i64 n, float s) {
        NT_GRID_STRIDE(i, n) out[i] = a[i] * s;
    }
    extern "C" __global__ void add_scalar_f32(const float* __restrict__ a, float* __restrict__ out, i64 n, float s) {
        NT_GRID_STRIDE(i, n) out[i] = a[i] + s;
    }
    extern "C" __global__ void fill_f32(float* __restrict__ out, i64 n, float v) {
        NT_GRID_STRIDE(i, n) out[i] = v;
    }
    // y += x (gradient accumulation, Tensor.addingInPlace).
    extern "C" __global__ void accumulate_f32(float* __restrict__ y, const float* __restrict__ x, i64 n) {
        NT_GRID_STRIDE(i, n) y[i] = y[i] + x[i];
    }
    // dst[offset_b] = src[offset_a] over `index.shape`: permute (a = permuted source strides), pad and
    // concat (b = the destination's strides, dst pointing at the slice), broadcast (a has zeros).
    extern "C" __global__ void strided_copy_f32(const float* __restrict__ src, float* __restrict__ dst, i64 n,
                                                NTStridedIndex index) {
        NT_GRID_STRIDE(i, n) {
            i64 ia, ib;
            nt_offsets(index, i, &ia, &ib);
            dst[ib] = src[ia];
        }
    }
    // out[i] = scores[i, idx[i]] (Tensor.gathered) and its gradient into a zeroed [N, C].
    extern "C" __global__ void gather_rows_f32(const float* __restrict__ scores, const int* __restrict__ idx,
                                               float* __restrict__ out, i64 n, i64 c) {
        NT_GRID_STRIDE(i, n) out[i] = scores[i * c + idx[i]];
    }
    extern "C" __global__ void gather_rows_backward_f32(const float* __restrict__ g, const int* __restrict__ idx,
                                                        float* __restrict__ grad, i64 n, i64 c) {
        NT_GRID_STRIDE(i, n) grad[i * c + idx[i]] = g[i];
    }
    // One-hot rows into a zeroed [N, C].
    extern "C" __global__ void one_hot_f32(const int* __restrict__ idx, float* __restrict__ out, i64 n, i64 c) {
        NT_GRID_STRIDE(i, n) out[i * c + idx[i]] = 1.0f;
    }
    """, entryPoints: [
        "add_f32", "add_broadcast_f32", "sub_f32", "sub_broadcast_f32", "mul_f32", "mul_broadcast_f32",
        "div_f32", "div_broadcast_f32", "neg_div_f32", "neg_div_broadcast_f32",
        "scale_f32", "add_scalar_f32", "fill_f32", "accumulate_f32", "strided_copy_f32",
        "gather_rows_f32", "gather_rows_backward_f32", "one_hot_f32",
    ])
}
