extension CUDAKernels {
    /// Softmax and log-softmax along an axis viewed as [outer, reduced, inner], and the last steps
    /// of their backward passes (Ops/Softmax.swift). Both subtract the maximum first.
    public static let softmax = CUDAKernelSource(name: "softmax.cu", body: """
    // Contiguous rows (inner = 1): one block (NT_BLOCK threads) per row.
    extern "C" __global__ void softmax_rows_f32(const float* __restrict__ x, float* __restrict__ y,
                                                i64 rows, i64 n, int take_log) {
        __shared__ float shared[NT_BLOCK];
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            const float* xr = x + row * n;
            float* yr = y + row * n;
            float m = -NT_INF;
            for (i64 j = threadIdx.x; j < n; j += NT_BLOCK) { float v = xr[j]; m = (v > m || isnan(v)) ? v : m; }
            m = nt_block_max(m, shared);
            float s = 0.0f;
            for (i64 j = threadIdx.x; j < n; j += NT_BLOCK) s += expf(xr[j] - m);
            s = nt_block_sum(s, shared);
            if (take_log) {
                float log_sum = logf(s);
                for (i64 j = threadIdx.x; j < n; j += NT_BLOCK) yr[j] = (xr[j] - m) - log_sum;
            } else {
                float inv = 1.0f / s;
                for (i64 j = threadIdx.x; j < n; j += NT_BLOCK) yr[j] = expf(xr[j] - m) * inv;
            }
        }
    }

    // Any inner size: one thread per (outer, inner) column, three passes over the reduced axis.
    extern "C" __global__ void softmax_columns_f32(const float* __restrict__ x, float* __restrict__ y,
                                                   i64 outer, i64 reduced, i64 inner, int take_log) {
        NT_GRID_STRIDE(k, outer * inner) {
            i64 o = k / inner, i = k % inner;
            const float* xc = x + o * reduced * inner + i;
            float* yc = y + o * reduced * inner + i;
            float m = xc[0];
            for (i64 r = 1; r < reduced; ++r) { float v = xc[r * inner]; m = v > m ? v : m; }
            float s = 0.0f;
            for (i64 r = 0; r < reduced; ++r) { float e = expf(xc[r * inner] - m); yc[r * inner] = e; s += e; }
            if (take_log) {
                float log_sum = logf(s);
                for (i64 r = 0; r < reduced; ++r) yc[r * inner] = (xc[r * inner] - m) - log_sum;
            } else {
                float inv = 1.0f / s;
                for (i64 r = 0; r < reduced; ++r) yc[r * inner] = yc[r * inner] * inv;
            }
        }
    }

    // softmax backward, after gy = g*y (mul_f32) and dot = sum_axis(gy): dx = gy - y*dot[o, i].
    extern "C" __global__ void softmax_backward_f32(const float* __restrict__ gy, const float* __restrict__ y,
                                                    const float* __restrict__ dot, float* __restrict__ dx,
                                                    i64 outer, i64 reduced, i64 inner) {
        NT_GRID_STRIDE(k, outer * reduced * inner) {
            i64 o = k / (reduced * inner), i = k % inner;
            dx[k] = gy[k] - y[k] * dot[o * inner + i];
        }
    }

    // log-softmax backward, after total = sum_axis(g): dx = g - exp(y)*total[o, i].
    extern "C" __global__ void log_softmax_backward_f32(const float* __restrict__ g, const float* __restrict__ y,
                                                        const float* __restrict__ total, float* __restrict__ dx,
                                                        i64 outer, i64 reduced, i64 inner) {
        NT_GRID_STRIDE(k, outer * reduced * inner) {
            i64 o = k / (reduced * inner), i = k % inner;
            dx[k] = g[k] - expf(y[k]) * total[o * inner + i];
        }
    }
    """, entryPoints: ["softmax_rows_f32", "softmax_columns_f32", "softmax_backward_f32", "log_softmax_backward_f32"])
}
