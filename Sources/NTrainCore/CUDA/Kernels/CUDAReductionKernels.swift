extension CUDAKernels {
    /// Sums and maxima along an axis of a tensor viewed as [outer, reduced, inner]
    /// (Ops/ReductionKernels.swift). `sum_axis_f32` adds rows in order like the CPU's column sums
    /// (bit-identical for inner > 1); `sum_rows_f32` (inner = 1) reduces each contiguous row in one
    /// block with a fixed tree, so it differs from the CPU's 8-lane order by rounding only.
    /// `channel_sums_f32` gives per-channel sums of [N, C, S] (conv bias gradient).
    public static let reductions = CUDAKernelSource(name: "reductions.cu", body: """
    // dst[o, i] = sum_r src[o, r, i]; one thread per output, rows added in order.
    extern "C" __global__ void sum_axis_f32(const float* __restrict__ src, float* __restrict__ dst,
                                            i64 outer, i64 reduced, i64 inner) {
        NT_GRID_STRIDE(k, outer * inner) {
            i64 o = k / inner, i = k % inner;
            const float* s = src + o * reduced * inner + i;
            float t = reduced > 0 ? s[0] : 0.0f;
            for (i64 r = 1; r < reduced; ++r) t += s[r * inner];
            dst[k] = t;
        }
    }

    // dst[row] = sum of the `n` contiguous floats of each row; one block (NT_BLOCK threads) per row.
    extern "C" __global__ void sum_rows_f32(const float* __restrict__ src, float* __restrict__ dst, i64 rows, i64 n) {
        __shared__ float shared[NT_BLOCK];
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            const float* s = src + row * n;
            float t = 0.0f;
            for (i64 j = threadIdx.x; j < n; j += NT_BLOCK) t += s[j];
            t = nt_block_sum(t, shared);
            if (threadIdx.x == 0) dst[row] = t;
        }
    }

    // dst[ch] = sum over samples and positions of x [N, C, S]; one block per channel.
    extern "C" __global__ void channel_sums_f32(const float* __restrict__ x, float* __restrict__ dst,
                                                i64 n, i64 c, i64 s) {
        __shared__ float shared[NT_BLOCK];
        for (i64 ch = blockIdx.x; ch < c; ch += gridDim.x) {
            float t = 0.0f;
            for (i64 k = threadIdx.x; k < n * s; k += NT_BLOCK) {
                i64 i = k / s, j = k % s;
                t += x[(i * c + ch) * s + j];
            }
            t = nt_block_sum(t, shared);
            if (threadIdx.x == 0) dst[ch] = t;
        }
    }

    // Maximum along the middle axis and its first index (int32); a NaN is the maximum.
    extern "C" __global__ void max_axis_f32(const float* __restrict__ src, float* __restrict__ values,
                                            int* __restrict__ indices, i64 outer, i64 reduced, i64 inner) {
        NT_GRID_STRIDE(k, outer * inner) {
            i64 o = k / inner, i = k % inner;
            const float* s = src + o * reduced * inner + i;
            float v = s[0];
            int at = 0;
            for (i64 r = 1; r < reduced; ++r) {
                float x = s[r * inner];
                if (x > v || (isnan(x) && !isnan(v))) { v = x; at = (int)r; }
            }
            values[k] = v;
            indices[k] = at;
        }
    }

    // Gradient of max along an axis: g[o, i] into dx[o, indices[o, i], i]; dx must be zeroed.
    extern "C" __global__ void max_axis_backward_f32(const float* __restrict__ g, const int* __restrict__ indices,
                                                     float* __restrict__ dx, i64 outer, i64 reduced, i64 inner) {
        NT_GRID_STRIDE(k, outer * inner) {
            i64 o = k / inner, i = k % inner;
            dx[(o * reduced + indices[k]) * inner + i] = g[k];
        }
    }
    """, entryPoints: ["sum_axis_f32", "sum_rows_f32", "channel_sums_f32", "max_axis_f32", "max_axis_backward_f32"])
}
