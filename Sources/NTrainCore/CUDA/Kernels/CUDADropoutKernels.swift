extension CUDAKernels {
    /// Inverted dropout (Conv/Dropout.swift). The uniforms are drawn on the host from the run's
    /// `RandomGenerator` in row-major order and copied with the batch, so a seed gives the same
    /// mask on CPU and GPU; the mask is then applied with `mul_f32` forward and backward.
    public static let dropout = CUDAKernelSource(name: "dropout.cu", body: """
    // mask = u < p ? 0 : keep, keep = 1/(1-p) (0 when p = 1).
    extern "C" __global__ void dropout_mask_f32(const float* __restrict__ uniforms, float* __restrict__ mask,
                                                i64 n, float p, float keep) {
        NT_GRID_STRIDE(i, n) mask[i] = uniforms[i] < p ? 0.0f : keep;
    }
    // y = x*mask in one pass (forward), and the same for the gradient.
    extern "C" __global__ void dropout_apply_f32(const float* __restrict__ x, const float* __restrict__ mask,
                                                 float* __restrict__ y, i64 n) {
        NT_GRID_STRIDE(i, n) y[i] = x[i] * mask[i];
    }
    """, entryPoints: ["dropout_mask_f32", "dropout_apply_f32"])
}
