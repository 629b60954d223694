extension CUDAKernels {
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
