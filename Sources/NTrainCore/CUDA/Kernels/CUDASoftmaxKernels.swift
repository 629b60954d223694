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

    /// Cross-entropy fused with log-softmax and label smoothing, and NLL, for logits [N, C] and
    /// int32 targets [N] (NTrainNN/Losses/ClassificationLosses.swift). Targets must be checked on
    /// the host first (0 <= t < C). The mean is accumulated in double in one block, like the CPU.
    public static let crossEntropy = CUDAKernelSource(name: "cross_entropy.cu", body: """
    // Per row: probs = softmax, row_loss = (1-eps)*nll - eps/C * sum_j log p_j. One block per row.
    extern "C" __global__ void cross_entropy_rows_f32(const float* __restrict__ logits, const int* __restrict__ targets,
                                                      float* __restrict__ probs, float* __restrict__ row_loss,
                                                      i64 n, i64 c, float eps) {
        __shared__ float shared[NT_BLOCK];
        for (i64 row = blockIdx.x; row < n; row += gridDim.x) {
            const float* x = logits + row * c;
            float* p = probs + row * c;
            float m = -NT_INF;
            for (i64 j = threadIdx.x; j < c; j += NT_BLOCK) m = fmaxf(m, x[j]);
            m = nt_block_max(m, shared);
            float s = 0.0f;
            for (i64 j = threadIdx.x; j < c; j += NT_BLOCK) { float e = expf(x[j] - m); p[j] = e; s += e; }
            s = nt_block_sum(s, shared);
            float log_z = m + logf(s);
            float inv = 1.0f / s;
            float sum_log_p = 0.0f;
            for (i64 j = threadIdx.x; j < c; j += NT_BLOCK) { p[j] = p[j] * inv; sum_log_p += x[j] - log_z; }
            sum_log_p = nt_block_sum(sum_log_p, shared);
            if (threadIdx.x == 0) {
                float nll = -(x[targets[row]] - log_z);
                row_loss[row] = (1.0f - eps) * nll - eps / (float)c * sum_log_p;
            }
        }
    }

    // loss[0] = sign * (sum of values) / n, summed in double by one block (launch one block).
    extern "C" __global__ void mean_f32(const float* __restrict__ values, float* __restrict__ loss, i64 n, float sign) {
        __shared__ double shared[NT_BLOCK];
        double t = 0.0;
        for (i64 j = threadIdx.x; j < n; j += NT_BLOCK) t += (double)values[j];
        t = nt_block_sum(t, shared);
        if (threadIdx.x == 0) loss[0] = (float)((double)sign * t / (double)n);
    }

    // grad = (probs - eps/C)*scale, minus (1-eps)*scale at the target; scale = upstream[0]/N
    // (read on the device, so backward needs no host sync).
    extern "C" __global__ void cross_entropy_backward_f32(const float* __restrict__ probs, const int* __restrict__ targets,
                                                          const float* __restrict__ upstream, float* __restrict__ grad,
                                                          i64 n, i64 c, float eps) {
        float scale = upstream[0] / (float)n;
        float off = eps / (float)c;
        NT_GRID_STRIDE(k, n * c) {
            i64 i = k / c, j = k % c;
            float v = (probs[k] - off) * scale;
            if (j == targets[i]) v -= (1.0f - eps) * scale;
            grad[k] = v;
        }
    }

    // NLL: picked[i] = logp[i, t_i]; the loss is mean_f32(picked, sign = -1).
    extern "C" __global__ void nll_pick_f32(const float* __restrict__ logp, const int* __restrict__ targets,
                                            float* __restrict__ picked, i64 n, i64 c) {
        NT_GRID_STRIDE(i, n) picked[i] = logp[i * c + targets[i]];
    }
    // NLL backward into a zeroed [N, C]: -upstream/N at each target.
    extern "C" __global__ void nll_backward_f32(const int* __restrict__ targets, const float* __restrict__ upstream,
                                                float* __restrict__ grad, i64 n, i64 c) {
        float v = -upstream[0] / (float)n;
        NT_GRID_STRIDE(i, n) grad[i * c + targets[i]] = v;
    }
    """, entryPoints: ["cross_entropy_rows_f32", "mean_f32", "cross_entropy_backward_f32", "nll_pick_f32", "nll_backward_f32"])
}
