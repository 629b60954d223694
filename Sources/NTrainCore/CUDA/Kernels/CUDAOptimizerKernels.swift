extension CUDAKernels {
    /// Fused per-parameter optimizer updates, one pass over (w, g, state), mirroring
    /// NTrainNN/Optim exactly: the host computes the per-step scalars (bias corrections, step
    /// sizes) in double as the CPU optimizers do and passes them as floats; the kernels repeat the
    /// CPU's per-element float expressions in the same order.
    public static let optimizers = CUDAKernelSource(name: "optimizers.cu", body: """
    // SGD (torch.optim.SGD). buffer may be null when momentum = 0; first = 1 on a parameter's first
    // step with momentum (the buffer becomes a copy of the decayed gradient). keep = 1 - dampening.
    extern "C" __global__ void sgd_f32(float* __restrict__ w, const float* __restrict__ g, float* __restrict__ buffer,
                                       i64 n, float neg_lr, float weight_decay, float momentum, float keep,
                                       int nesterov, int first) {
        NT_GRID_STRIDE(j, n) {
            float wj = w[j];
            float gj = weight_decay == 0.0f ? g[j] : g[j] + weight_decay * wj;
            if (momentum == 0.0f) {
                w[j] = wj + neg_lr * gj;
            } else if (first) {
                buffer[j] = gj;
                w[j] = wj + neg_lr * (nesterov ? gj + momentum * gj : gj);
            } else {
                float bj = buffer[j] * momentum + keep * gj;
                buffer[j] = bj;
                w[j] = wj + neg_lr * (nesterov ? gj + momentum * bj : bj);
            }
        }
    }

    // Adam / AdamW (torch.optim.Adam, AdamW). shrink = 1 - lr*wd applied first when shrinks (AdamW);
    // l2 = weight decay added to g (Adam); w1 = 1 - beta1, w2 = 1 - beta2, decay2 = beta2,
    // bc2_sqrt = sqrt(1 - beta2^t), neg_step = -lr/(1 - beta1^t). vmax may be null unless amsgrad.
    extern "C" __global__ void adam_f32(float* __restrict__ w, const float* __restrict__ g, float* __restrict__ m,
                                        float* __restrict__ v, float* __restrict__ vmax, i64 n,
                                        int shrinks, float shrink, float l2, float w1, float decay2, float w2,
                                        float bc2_sqrt, float eps, float neg_step, int amsgrad) {
        NT_GRID_STRIDE(j, n) {
            float wj = w[j];
            if (shrinks) wj = wj * shrink;
            float gj = l2 == 0.0f ? g[j] : g[j] + l2 * wj;
            float mj = nt_lerp(m[j], gj, w1);
            m[j] = mj;
            float vj = v[j] * decay2 + w2 * gj * gj;
            v[j] = vj;
            float vhat = vj;
            if (amsgrad) {
                float prev = vmax[j];
                vhat = vj >= prev ? vj : prev;  // Swift.max(prev, vj), NaN included
                vmax[j] = vhat;
            }
            float denom = sqrtf(vhat) / bc2_sqrt + eps;
            w[j] = wj + neg_step * (mj / denom);
        }
    }

    // NAdam (torch.optim.NAdam). bc2 = 1 - beta2^t; grad_coef = -lr(1-mu_t)/(1-prod_t),
    // avg_coef = -lr*mu_{t+1}/(1 - prod_t*mu_{t+1}) from the host.
    extern "C" __global__ void nadam_f32(float* __restrict__ w, const float* __restrict__ g, float* __restrict__ m,
                                         float* __restrict__ v, i64 n, int shrinks, float shrink, float l2,
                                         float w1, float decay2, float w2, float bc2, float eps,
                                         float grad_coef, float avg_coef) {
        NT_GRID_STRIDE(j, n) {
            float wj = w[j];
            if (shrinks) wj = wj * shrink;
            float gj = l2 == 0.0f ? g[j] : g[j] + l2 * wj;
            float mj = nt_lerp(m[j], gj, w1);
            m[j] = mj;
            float vj = v[j] * decay2 + w2 * gj * gj;
            v[j] = vj;
            float denom = sqrtf(vj / bc2) + eps;
            wj = wj + grad_coef * (gj / denom);
            w[j] = wj + avg_coef * (mj / denom);
        }
    }

    // Adagrad (torch.optim.Adagrad). neg_clr = -lr/(1 + (t-1)*lr_decay).
    extern "C" __global__ void adagrad_f32(float* __restrict__ w, const float* __restrict__ g, float* __restrict__ sum,
                                           i64 n, float weight_decay, float eps, float neg_clr) {
        NT_GRID_STRIDE(j, n) {
            float wj = w[j];
            float gj = weight_decay == 0.0f ? g[j] : g[j] + weight_decay * wj;
            float sj = sum[j] + gj * gj;
            sum[j] = sj;
            w[j] = wj + neg_clr * (gj / (sqrtf(sj) + eps));
        }
    }

    // RMSprop (torch.optim.RMSprop). decay = alpha, keep = 1 - alpha; buffer null unless momentum > 0,
    // grad_avg null unless centered.
    extern "C" __global__ void rmsprop_f32(float* __restrict__ w, const float* __restrict__ g,
                                           float* __restrict__ square_avg, float* __restrict__ buffer,
                                           float* __restrict__ grad_avg, i64 n, float decay, float keep, float eps,
                                           float weight_decay, float momentum, float neg_lr) {
        NT_GRID_STRIDE(j, n) {
            float wj = w[j];
            float gj = weight_decay == 0.0f ? g[j] : g[j] + weight_decay * wj;
            float sj = square_avg[j] * decay + keep * gj * gj;
            square_avg[j] = sj;
            float avg;
            if (grad_avg) {
                float aj = nt_lerp(grad_avg[j], gj, keep);
                grad_avg[j] = aj;
                avg = sqrtf(sj + -1.0f * aj * aj);
            } else {
                avg = sqrtf(sj);
            }
            avg = avg + eps;
            if (momentum > 0.0f) {
                float bj = buffer[j] * momentum + gj / avg;
                buffer[j] = bj;
                w[j] = wj + neg_lr * bj;
            } else {
                w[j] = wj + neg_lr * (gj / avg);
            }
        }
    }
    """, entryPoints: ["sgd_f32", "adam_f32", "nadam_f32", "adagrad_f32", "rmsprop_f32"])
}
