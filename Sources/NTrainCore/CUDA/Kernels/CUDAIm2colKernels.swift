extension CUDAKernels {
    /// im2col / col2im for convolution as GEMM (Conv/Im2col.swift), over a batch of images whose
    /// im2col blocks sit side by side: row (c, ki, kj) of image b starts at
    /// `row * row_stride + b * oh * ow`. col2im gathers (each input pixel sums its taps in the CPU's
    /// (ki, kj) order) instead of scattering, so it needs no atomics and is deterministic.
    /// Groups: offset the pointers per group and pass the group's channel count.
    public static let im2col = CUDAKernelSource(name: "im2col.cu", body: """
    struct NTConvGeometry {
        i64 batch, channels, height, width;        // input [batch, channels, height, width]
        i64 kernel_h, kernel_w, stride_y, stride_x, pad_y, pad_x, dilation_y, dilation_x;
        i64 out_h, out_w;
        i64 image_stride;                          // floats between images of the input (C_total*H*W)
        i64 row_stride;                            // floats between rows of the im2col matrix
    };

    extern "C" __global__ void im2col_f32(const float* __restrict__ x, float* __restrict__ col, NTConvGeometry g) {
        i64 pixels = g.out_h * g.out_w;
        i64 rows = g.channels * g.kernel_h * g.kernel_w;
        NT_GRID_STRIDE(k, rows * g.batch * pixels) {
            i64 p = k % pixels, b = (k / pixels) % g.batch, row = k / (pixels * g.batch);
            i64 kj = row % g.kernel_w, ki = (row / g.kernel_w) % g.kernel_h, c = row / (g.kernel_w * g.kernel_h);
            i64 oy = p / g.out_w, ox = p % g.out_w;
            i64 iy = oy * g.stride_y + ki * g.dilation_y - g.pad_y;
            i64 ix = ox * g.stride_x + kj * g.dilation_x - g.pad_x;
            bool inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width;
            col[row * g.row_stride + b * pixels + p] =
                inside ? x[b * g.image_stride + (c * g.height + iy) * g.width + ix] : 0.0f;
        }
    }

    // image[b, c, iy, ix] += every im2col entry taken from it (image must be initialised, e.g. zeroed).
    extern "C" __global__ void col2im_f32(const float* __restrict__ col, float* __restrict__ image, NTConvGeometry g) {
        i64 pixels = g.out_h * g.out_w;
        i64 plane = g.height * g.width;
        NT_GRID_STRIDE(k, g.batch * g.channels * plane) {
            i64 ix = k % g.width, iy = (k / g.width) % g.height;
            i64 c = (k / plane) % g.channels, b = k / (plane * g.channels);
            float* dst = image + b * g.image_stride + (c * g.height + iy) * g.width + ix;
            float acc = *dst;
            for (i64 ki = 0; ki < g.kernel_h; ++ki) {
                i64 ty = iy + g.pad_y - ki * g.dilation_y;
                if (ty < 0 || ty % g.stride_y != 0) continue;
                i64 oy = ty / g.stride_y;
                if (oy >= g.out_h) continue;
                for (i64 kj = 0; kj < g.kernel_w; ++kj) {
                    i64 tx = ix + g.pad_x - kj * g.dilation_x;
                    if (tx < 0 || tx % g.stride_x != 0) continue;
                    i64 ox = tx / g.stride_x;
                    if (ox >= g.out_w) continue;
                    i64 row = (c * g.kernel_h + ki) * g.kernel_w + kj;
                    acc += col[row * g.row_stride + b * pixels + oy * g.out_w + ox];
                }
            }
            *dst = acc;
        }
    }

    // y[b, o, p] += bias[o] for y [N, C, S] (the conv/linear bias).
    extern "C" __global__ void add_channel_bias_f32(float* __restrict__ y, const float* __restrict__ bias,
                                                    i64 n, i64 c, i64 s) {
        NT_GRID_STRIDE(k, n * c * s) y[k] = y[k] + bias[(k / s) % c];
    }
    """, entryPoints: ["im2col_f32", "col2im_f32", "add_channel_bias_f32"])
}
