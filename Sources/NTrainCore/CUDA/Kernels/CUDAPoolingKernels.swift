extension CUDAKernels {
    /// Max and average pooling over [N·C planes, H, W], forward and backward (Conv/MaxPool.swift,
    /// Conv/AvgPool.swift). Max pooling pads with -inf, keeps the first maximum in row-major
    /// window order and lets NaN win; average pooling divides by kh·kw (count_include_pad).
    /// Backward kernels gather per input pixel in the CPU's accumulation order (no atomics).
    public static let pooling = CUDAKernelSource(name: "pooling.cu", body: """
    struct NTPoolGeometry {
        i64 planes, height, width, out_h, out_w;
        i64 kernel_h, kernel_w, stride_y, stride_x, pad_y, pad_x;
    };

    extern "C" __global__ void max_pool2d_f32(const float* __restrict__ x, float* __restrict__ y,
                                              int* __restrict__ indices, NTPoolGeometry g) {
        NT_GRID_STRIDE(k, g.planes * g.out_h * g.out_w) {
            i64 ox = k % g.out_w, oy = (k / g.out_w) % g.out_h, plane = k / (g.out_w * g.out_h);
            const float* xp = x + plane * g.height * g.width;
            i64 y0 = max(oy * g.stride_y - g.pad_y, (i64)0), y1 = min(oy * g.stride_y - g.pad_y + g.kernel_h, g.height);
            i64 x0 = max(ox * g.stride_x - g.pad_x, (i64)0), x1 = min(ox * g.stride_x - g.pad_x + g.kernel_w, g.width);
            float best = -NT_INF;
            i64 at = y0 * g.width + x0;
            for (i64 yy = y0; yy < y1; ++yy) {
                for (i64 xx = x0; xx < x1; ++xx) {
                    float v = xp[yy * g.width + xx];
                    if (v > best || isnan(v)) { best = v; at = yy * g.width + xx; }
                }
            }
            y[k] = best;
            indices[k] = (int)at;
        }
    }

    // The output windows (oy0..oy1, ox0..ox1) that contain input pixel (iy, ix).
    __device__ __forceinline__ void nt_windows(const NTPoolGeometry& g, i64 iy, i64 ix,
                                               i64* oy0, i64* oy1, i64* ox0, i64* ox1) {
        i64 ty = iy + g.pad_y, tx = ix + g.pad_x;
        *oy0 = ty < g.kernel_h ? 0 : (ty - g.kernel_h) / g.stride_y + 1;
        *oy1 = min(ty / g.stride_y + 1, g.out_h);
        *ox0 = tx < g.kernel_w ? 0 : (tx - g.kernel_w) / g.stride_x + 1;
        *ox1 = min(tx / g.stride_x + 1, g.out_w);
    }

    extern "C" __global__ void max_pool2d_backward_f32(const float* __restrict__ grad, const int* __restrict__ indices,
                                                       float* __restrict__ dx, NTPoolGeometry g) {
        i64 plane_in = g.height * g.width, plane_out = g.out_h * g.out_w;
        NT_GRID_STRIDE(k, g.planes * plane_in) {
            i64 plane = k / plane_in, pixel = k % plane_in;
            i64 oy0, oy1, ox0, ox1;
            nt_windows(g, pixel / g.width, pixel % g.width, &oy0, &oy1, &ox0, &ox1);
            const float* gp = grad + plane * plane_out;
            const int* ip = indices + plane * plane_out;
            float acc = 0.0f;
            for (i64 oy = oy0; oy < oy1; ++oy)
                for (i64 ox = ox0; ox < ox1; ++ox)
                    if (ip[oy * g.out_w + ox] == (int)pixel) acc += gp[oy * g.out_w + ox];
            dx[k] = acc;
        }
    }

    extern "C" __global__ void avg_pool2d_f32(const float* __restrict__ x, float* __restrict__ y, NTPoolGeometry g) {
        float scale = 1.0f / (float)(g.kernel_h * g.kernel_w);
        NT_GRID_STRIDE(k, g.planes * g.out_h * g.out_w) {
            i64 ox = k % g.out_w, oy = (k / g.out_w) % g.out_h, plane = k / (g.out_w * g.out_h);
            const float* xp = x + plane * g.height * g.width;
            i64 y0 = max(oy * g.stride_y - g.pad_y, (i64)0), y1 = min(oy * g.stride_y - g.pad_y + g.kernel_h, g.height);
            i64 x0 = max(ox * g.stride_x - g.pad_x, (i64)0), x1 = min(ox * g.stride_x - g.pad_x + g.kernel_w, g.width);
            float s = 0.0f;
            for (i64 yy = y0; yy < y1; ++yy)
                for (i64 xx = x0; xx < x1; ++xx) s += xp[yy * g.width + xx];
            y[k] = s * scale;
        }
    }

    extern "C" __global__ void avg_pool2d_backward_f32(const float* __restrict__ grad, float* __restrict__ dx,
                                                       NTPoolGeometry g) {
        float scale = 1.0f / (float)(g.kernel_h * g.kernel_w);
        i64 plane_in = g.height * g.width, plane_out = g.out_h * g.out_w;
        NT_GRID_STRIDE(k, g.planes * plane_in) {
            i64 plane = k / plane_in, pixel = k % plane_in;
            i64 oy0, oy1, ox0, ox1;
            nt_windows(g, pixel / g.width, pixel % g.width, &oy0, &oy1, &ox0, &ox1);
            const float* gp = grad + plane * plane_out;
            float acc = 0.0f;
            for (i64 oy = oy0; oy < oy1; ++oy)
                for (i64 ox = ox0; ox < ox1; ++ox) acc += gp[oy * g.out_w + ox] * scale;
            dx[k] = acc;
        }
    }
    """, entryPoints: ["max_pool2d_f32", "max_pool2d_backward_f32", "avg_pool2d_f32", "avg_pool2d_backward_f32"])
}
