extension CUDAKernels {
    /// A shared-memory tiled SGEMM with the same contract as `Kernels.gemm` (row-major,
    /// C = alpha·op(A)·op(B) + beta·C, lda/ldb/ldc row strides), batched through grid z with element
    /// strides between matrices. cuBLAS (`CUBLAS`) is the fast path; this kernel is the fallback
    /// where libcublas is absent and the reference the GPU check compares cuBLAS against.
    /// Launch with 16×16 threads and grid (ceil(n/16), ceil(m/16), batch).
    public static let gemm = CUDAKernelSource(name: "gemm.cu", body: """
    #define NT_TILE 16
    extern "C" __global__ void gemm_f32(int trans_a, int trans_b, i64 m, i64 n, i64 k, float alpha,
                                        const float* __restrict__ a, i64 lda, i64 stride_a,
                                        const float* __restrict__ b, i64 ldb, i64 stride_b,
                                        float beta, float* __restrict__ c, i64 ldc, i64 stride_c) {
        __shared__ float ta[NT_TILE][NT_TILE];
        __shared__ float tb[NT_TILE][NT_TILE + 1];
        a += blockIdx.z * stride_a;
        b += blockIdx.z * stride_b;
        c += blockIdx.z * stride_c;
        i64 row = (i64)blockIdx.y * NT_TILE + threadIdx.y;
        i64 col = (i64)blockIdx.x * NT_TILE + threadIdx.x;
        float acc = 0.0f;
        for (i64 t = 0; t < k; t += NT_TILE) {
            i64 ka = t + threadIdx.x, kb = t + threadIdx.y;
            // op(A)[row, ka] and op(B)[kb, col], zero outside the matrices.
            ta[threadIdx.y][threadIdx.x] = (row < m && ka < k) ? (trans_a ? a[ka * lda + row] : a[row * lda + ka]) : 0.0f;
            tb[threadIdx.y][threadIdx.x] = (kb < k && col < n) ? (trans_b ? b[col * ldb + kb] : b[kb * ldb + col]) : 0.0f;
            __syncthreads();
            for (int q = 0; q < NT_TILE; ++q) acc += ta[threadIdx.y][q] * tb[q][threadIdx.x];
            __syncthreads();
        }
        if (row < m && col < n) {
            float* out = c + row * ldc + col;
            *out = beta == 0.0f ? alpha * acc : alpha * acc + beta * *out;
        }
    }
    """, entryPoints: ["gemm_f32"])
}
