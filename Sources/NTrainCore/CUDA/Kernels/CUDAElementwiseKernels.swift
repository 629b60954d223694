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

    /// Unary math and activations, forward and backward (Ops/Unary.swift, Ops/Activations.swift,
    /// Ops/FastMath.swift). `expf`/`erff` are CUDA's (≤ 2 ulp), the CPU's are Cephes-style, so
    /// results agree to a few ulp rather than bit for bit; tanh uses the CPU's own polynomial.
    public static let activations = CUDAKernelSource(name: "activations.cu", body: """
    #define NT_UNARY(NAME, EXPR) \\
    extern "C" __global__ void NAME##_f32(const float* __restrict__ a, float* __restrict__ out, i64 n) { \\
        NT_GRID_STRIDE(i, n) { float x = a[i]; out[i] = (EXPR); } \\
    }
    // Backward kernels: g is the upstream gradient, s the saved input x or output y.
    #define NT_UNARY_BACKWARD(NAME, EXPR) \\
    extern "C" __global__ void NAME##_backward_f32(const float* __restrict__ g, const float* __restrict__ s, \\
                                                   float* __restrict__ out, i64 n) { \\
        NT_GRID_STRIDE(i, n) { float gv = g[i], v = s[i]; out[i] = (EXPR); } \\
    }

    __device__ __forceinline__ float nt_sigmoid(float x) {
        float e = expf(-fabsf(x));  // <= 1: never overflows
        float d = 1.0f / (1.0f + e);
        return x >= 0.0f ? d : e * d;
    }
    // Cephes tanhf, as Kernels.tanh: odd polynomial below 0.625, else 1 - 2/(e^2x + 1).
    __device__ __forceinline__ float nt_tanh(float x) {
        float z = fabsf(x);
        float large = 1.0f - 2.0f / (expf(2.0f * z) + 1.0f);
        float s = x * x;
        float p = -5.70498872745e-3f;
        p = p * s + 2.06390887954e-2f;
        p = p * s - 5.37397155531e-2f;
        p = p * s + 1.33314422036e-1f;
        p = p * s - 3.33332819422e-1f;
        float small = p * s * x + x;
        return z < 0.625f ? small : (x < 0.0f ? -large : large);
    }

    NT_UNARY(exp, expf(x))
    NT_UNARY_BACKWARD(exp, gv * v)              // s = y
    NT_UNARY(log, logf(x))
    NT_UNARY_BACKWARD(log, gv / v)              // s = x
    NT_UNARY(sqrt, sqrtf(x))
    NT_UNARY_BACKWARD(sqrt, gv * 0.5f / v)      // s = y
    NT_UNARY(abs, fabsf(x))
    NT_UNARY_BACKWARD(abs, v > 0.0f ? gv : (v < 0.0f ? -gv : 0.0f))
    NT_UNARY(relu, x > 0.0f ? x : 0.0f)
    NT_UNARY_BACKWARD(relu, v > 0.0f ? gv : 0.0f)
    NT_UNARY(gelu, 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)))
    NT_UNARY_BACKWARD(gelu, gv * (0.5f * (1.0f + erff(v * 0.70710678118654752f))
                                  + v * (0.39894228040143268f * expf(-0.5f * v * v))))
    NT_UNARY(sigmoid, nt_sigmoid(x))
    NT_UNARY_BACKWARD(sigmoid, gv * v * (1.0f - v))     // s = y
    NT_UNARY(tanh, nt_tanh(x))
    NT_UNARY_BACKWARD(tanh, gv * (1.0f - v * v))        // s = y

    extern "C" __global__ void leaky_relu_f32(const float* __restrict__ a, float* __restrict__ out, i64 n, float slope) {
        NT_GRID_STRIDE(i, n) { float x = a[i]; out[i] = x > 0.0f ? x : x * slope; }
    }
    extern "C" __global__ void leaky_relu_backward_f32(const float* __restrict__ g, const float* __restrict__ x,
                                                       float* __restrict__ out, i64 n, float slope) {
        NT_GRID_STRIDE(i, n) { float gv = g[i]; out[i] = x[i] > 0.0f ? gv : gv * slope; }
    }
    // x^p, with p = 2 as a multiply (as the CPU).
    extern "C" __global__ void pow_f32(const float* __restrict__ a, float* __restrict__ out, i64 n, float p) {
        NT_GRID_STRIDE(i, n) { float x = a[i]; out[i] = p == 2.0f ? x * x : powf(x, p); }
    }
    extern "C" __global__ void pow_backward_f32(const float* __restrict__ g, const float* __restrict__ x,
                                                float* __restrict__ out, i64 n, float p) {
        NT_GRID_STRIDE(i, n) {
            float xv = x[i];
            out[i] = p == 2.0f ? 2.0f * xv * g[i] : (p == 0.0f ? 0.0f : p * powf(xv, p - 1.0f) * g[i]);
        }
    }
    // Clamp to [lo, hi] (pass -inf/inf for a missing bound); the gradient flows where lo <= x <= hi.
    extern "C" __global__ void clamp_f32(const float* __restrict__ a, float* __restrict__ out, i64 n, float lo, float hi) {
        // Swift.min(Swift.max(x, lo), hi) exactly, NaN included (fminf/fmaxf would drop a NaN).
        NT_GRID_STRIDE(i, n) { float x = a[i]; float t = lo >= x ? lo : x; out[i] = hi < t ? hi : t; }
    }
    extern "C" __global__ void clamp_backward_f32(const float* __restrict__ g, const float* __restrict__ x,
                                                  float* __restrict__ out, i64 n, float lo, float hi) {
        NT_GRID_STRIDE(i, n) {
            float gv = g[i], xv = x[i];
            float low = xv >= lo ? gv : 0.0f;
            out[i] = xv <= hi ? low : 0.0f;
        }
    }
    """, entryPoints: [
        "exp_f32", "exp_backward_f32", "log_f32", "log_backward_f32", "sqrt_f32", "sqrt_backward_f32",
        "abs_f32", "abs_backward_f32", "relu_f32", "relu_backward_f32", "gelu_f32", "gelu_backward_f32",
        "sigmoid_f32", "sigmoid_backward_f32", "tanh_f32", "tanh_backward_f32",
        "leaky_relu_f32", "leaky_relu_backward_f32", "pow_f32", "pow_backward_f32", "clamp_f32", "clamp_backward_f32",
    ])
}
