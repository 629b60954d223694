extension CUDAKernels {
    /// Batch normalisation of x [N, C, S] (S = H·W, or 1 for [N, C]) over every axis but the
    /// channel (Conv/BatchNorm.swift): statistics (two passes, accumulated in double, one block per
    /// channel), the running-statistics update, the fused apply, and the backward pass. `weight`,
    /// `bias`, `dx`, `dweight`, `dbias` may be null.
    public static let batchNorm = CUDAKernelSource(name: "batch_norm.cu", body: """
    extern "C" __global__ void batch_norm_statistics_f32(const float* __restrict__ x, float* __restrict__ mean,
                                                         float* __restrict__ variance, i64 n, i64 c, i64 s) {
        __shared__ double shared[NT_BLOCK];
        double m = (double)(n * s > 0 ? n * s : 1);
        for (i64 ch = blockIdx.x; ch < c; ch += gridDim.x) {
            double total = 0.0;
            for (i64 k = threadIdx.x; k < n * s; k += NT_BLOCK) total += (double)x[((k / s) * c + ch) * s + k % s];
            total = nt_block_sum(total, shared);
            float mu = (float)(total / m);
            double squares = 0.0;
            for (i64 k = threadIdx.x; k < n * s; k += NT_BLOCK) {
                float d = x[((k / s) * c + ch) * s + k % s] - mu;
                squares += (double)(d * d);
            }
            squares = nt_block_sum(squares, shared);
            if (threadIdx.x == 0) { mean[ch] = mu; variance[ch] = (float)(squares / m); }
        }
    }

    // Training: inv_std from the batch variance, running stats updated in place (unbiased variance;
    // unbias = count / (count - 1)). One thread per channel.
    extern "C" __global__ void batch_norm_update_f32(const float* __restrict__ batch_mean, const float* __restrict__ batch_var,
                                                     float* __restrict__ running_mean, float* __restrict__ running_var,
                                                     float* __restrict__ inv_std, i64 c, float momentum, float eps, float unbias) {
        NT_GRID_STRIDE(ch, c) {
            inv_std[ch] = 1.0f / sqrtf(batch_var[ch] + eps);
            running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * batch_mean[ch];
            running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * batch_var[ch] * unbias;
        }
    }

    // Eval: inv_std from the running variance.
    extern "C" __global__ void batch_norm_inv_std_f32(const float* __restrict__ variance, float* __restrict__ inv_std,
                                                      i64 c, float eps) {
        NT_GRID_STRIDE(ch, c) inv_std[ch] = 1.0f / sqrtf(variance[ch] + eps);
    }

    // y = x*scale + shift with scale = inv_std*weight, shift = bias - mean*scale.
    extern "C" __global__ void batch_norm_apply_f32(const float* __restrict__ x, float* __restrict__ y,
                                                    const float* __restrict__ mean, const float* __restrict__ inv_std,
                                                    const float* __restrict__ weight, const float* __restrict__ bias,
                                                    i64 n, i64 c, i64 s) {
        NT_GRID_STRIDE(k, n * c * s) {
            i64 ch = (k / s) % c;
            float scale = inv_std[ch] * (weight ? weight[ch] : 1.0f);
            float shift = (bias ? bias[ch] : 0.0f) - mean[ch] * scale;
            y[k] = x[k] * scale + shift;
        }
    }

    // dbias = sum dy, dweight = sum dy*(x - mean) * inv_std; dx = a*dy + k2*x + k3 with
    // a = inv_std*weight, k2 = -a*inv_std^2*sum(dy*(x-mean))/m, k3 = -a*sum(dy)/m - k2*mean in
    // training, dx = a*dy in eval. One block per channel.
    extern "C" __global__ void batch_norm_backward_f32(const float* __restrict__ grad, const float* __restrict__ x,
                                                       const float* __restrict__ mean, const float* __restrict__ inv_std,
                                                       const float* __restrict__ weight, float* __restrict__ dx,
                                                       float* __restrict__ dweight, float* __restrict__ dbias,
                                                       i64 n, i64 c, i64 s, int training) {
        __shared__ double shared[NT_BLOCK];
        float m = (float)(n * s > 0 ? n * s : 1);
        int need_sums = training || dweight || dbias;
        for (i64 ch = blockIdx.x; ch < c; ch += gridDim.x) {
            float mu = mean[ch], inv = inv_std[ch];
            double sum_dy = 0.0, sum_dy_xmu = 0.0;
            if (need_sums) {
                for (i64 k = threadIdx.x; k < n * s; k += NT_BLOCK) {
                    i64 off = ((k / s) * c + ch) * s + k % s;
                    float dy = grad[off];
                    sum_dy += (double)dy;
                    sum_dy_xmu += (double)(dy * (x[off] - mu));
                }
                sum_dy = nt_block_sum(sum_dy, shared);
                sum_dy_xmu = nt_block_sum(sum_dy_xmu, shared);
            }
            if (threadIdx.x == 0) {
                if (dbias) dbias[ch] = (float)sum_dy;
                if (dweight) dweight[ch] = (float)sum_dy_xmu * inv;
            }
            if (!dx) continue;
            float a = inv * (weight ? weight[ch] : 1.0f);
            float k2 = training ? -a * inv * inv * (float)sum_dy_xmu / m : 0.0f;
            float k3 = training ? -a * (float)sum_dy / m - k2 * mu : 0.0f;
            for (i64 k = threadIdx.x; k < n * s; k += NT_BLOCK) {
                i64 off = ((k / s) * c + ch) * s + k % s;
                dx[off] = a * grad[off] + k2 * x[off] + k3;
            }
        }
    }
    """, entryPoints: [
        "batch_norm_statistics_f32", "batch_norm_update_f32", "batch_norm_inv_std_f32",
        "batch_norm_apply_f32", "batch_norm_backward_f32",
    ])
}
