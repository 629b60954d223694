/// One CUDA C translation unit of ntrain's GPU kernels, compiled by NVRTC at first use.
///
/// Conventions shared by every kernel (see `CUDAKernels.prelude`):
/// - float32 data, int32 class indices/argmax, `long long` (`i64`) sizes and offsets;
/// - elementwise kernels use grid-stride loops, so any grid size is correct;
/// - kernels that reduce inside a block (`*_rows`, `*_channels`, cross-entropy, batch-norm) must be
///   launched with exactly `CUDAKernels.blockSize` threads; they reduce in a fixed tree order, and
///   no kernel uses floating-point atomics, so results are deterministic run to run;
/// - shapes up to rank 8 travel as an `NTStridedIndex` by value: 25 int64s, rank then the shape,
///   then two stride lists (the first and second operand's element strides, 0 where broadcast).
public struct CUDAKernelSource: Sendable, Equatable {
    /// A file-like name for NVRTC's messages, e.g. `elementwise.cu`.
    public let name: String
    /// The full source: `CUDAKernels.prelude` followed by this unit's kernels.
    public let source: String
    /// The `extern "C"` kernels it defines (each must appear as a `.entry` in the PTX).
    public let entryPoints: [String]

    public init(name: String, body: String, entryPoints: [String]) {
        self.name = name
        self.source = CUDAKernels.prelude + body
        self.entryPoints = entryPoints
    }
}

/// The CUDA C sources of ntrain's GPU kernels, mirroring the CPU kernels' formulas and rounding
/// order wherever the order is fixed (see each unit's comments where it differs).
public enum CUDAKernels {
    /// Threads per block for the kernels that reduce within a block (a power of two).
    public static let blockSize = 256

    /// Every translation unit.
    public static var all: [CUDAKernelSource] {
        [elementwise, activations, reductions, softmax, crossEntropy, im2col, pooling, batchNorm, dropout, optimizers, gemm]
    }

    /// The unit that defines `entryPoint`, if any.
    public static func unit(defining entryPoint: String) -> CUDAKernelSource? {
        all.first { $0.entryPoints.contains(entryPoint) }
    }

    /// Helpers every unit starts with.
    public static let prelude = """
    // ntrain CUDA kernels (compiled by NVRTC; no headers needed).
    typedef long long i64;
    #define NT_BLOCK 256
    #define NT_MAX_RANK 8
    #define NT_INF __int_as_float(0x7f800000)
    #define NT_GRID_STRIDE(i, n) \\
        for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

    // Shape and two stride lists (elements), passed by value: 25 int64s.
    struct NTStridedIndex {
        i64 rank;
        i64 shape[NT_MAX_RANK];
        i64 a[NT_MAX_RANK];
        i64 b[NT_MAX_RANK];
    };

    // Offsets into the two operands of the row-major position `flat` of `shape`.
    __device__ __forceinline__ void nt_offsets(const NTStridedIndex& s, i64 flat, i64* ia, i64* ib) {
        i64 oa = 0, ob = 0;
        for (int d = (int)s.rank - 1; d >= 0; --d) {
            i64 c = flat % s.shape[d];
            flat /= s.shape[d];
            oa += c * s.a[d];
            ob += c * s.b[d];
        }
        *ia = oa;
        *ib = ob;
    }

    // Sum over the block in a fixed tree order (deterministic); blockDim.x must be NT_BLOCK.
    template <typename T>
    __device__ __forceinline__ T nt_block_sum(T v, T* shared) {
        shared[threadIdx.x] = v;
        __syncthreads();
        for (int s = NT_BLOCK / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
            __syncthreads();
        }
        T r = shared[0];
        __syncthreads();
        return r;
    }

    // Maximum over the block; NaN wins, as in the CPU kernels.
    __device__ __forceinline__ float nt_block_max(float v, float* shared) {
        shared[threadIdx.x] = v;
        __syncthreads();
        for (int s = NT_BLOCK / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                float o = shared[threadIdx.x + s];
                float m = shared[threadIdx.x];
                shared[threadIdx.x] = (o > m || (isnan(o) && !isnan(m))) ? o : m;
            }
            __syncthreads();
        }
        float r = shared[0];
        __syncthreads();
        return r;
    }

    // PyTorch's lerp (as the CPU optimizers): exact at both ends.
    __device__ __forceinline__ float nt_lerp(float a, float b, float w) {
        return fabsf(w) < 0.5f ? a + w * (b - a) : b - (b - a) * (1.0f - w);
    }

    """
}
