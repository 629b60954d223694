import Foundation

/// The unary ops' CUDA kernels, generated from their definitions (`UnaryOp.cuda`): a forward
/// `NAME_f32(a, out, n, p0, …)` and a backward `NAME_backward_f32(g, saved, out, n, p0, …)` each,
/// grid-stride loops like every elementwise kernel.
extension CUDAKernels {
    /// Device functions the ops' expressions may call. `expf`/`erff` are CUDA's (≤ 2 ulp), the
    /// CPU's are Cephes-style, so results agree to a few ulp rather than bit for bit; tanh uses
    /// the CPU's own polynomial.
    public static let pointwiseHelpers = """
    __device__ __forceinline__ float nt_sigmoid(float x) {
        float e = expf(-fabsf(x));  // <= 1: never overflows
        float d = 1.0f / (1.0f + e);
        return x >= 0.0f ? d : e * d;
    }
    // Cephes tanhf, as Kernels.tanh: odd polynomial below 0.625, else 1 - 2/(e^2x + 1).
    __device__ __forceinline__ float nt_tanh(float x) {
        float z = fabsf(x);
        float large = 1.0f - 2.0f / (expf(2.0f * z) + 1.0f);
        float s = x * x;
        float p = -5.70498872745e-3f;
        p = p * s + 2.06390887954e-2f;
        p = p * s - 5.37397155531e-2f;
        p = p * s + 1.33314422036e-1f;
        p = p * s - 3.33332819422e-1f;
        float small = p * s * x + x;
        return z < 0.625f ? small : (x < 0.0f ? -large : large);
    }
    // Swift.min(Swift.max(x, lo), hi) exactly, NaN included (fminf/fmaxf would drop a NaN).
    __device__ __forceinline__ float nt_clamp(float x, float lo, float hi) {
        float t = lo >= x ? lo : x;
        return hi < t ? hi : t;
    }

    """

    /// The built-in unary ops and activations (`UnaryOp.builtins`).
    public static let activations = pointwiseUnit(name: "activations.cu", ops: UnaryOp.builtins)

    /// The unit holding `op`'s kernels: the activations unit for a built-in op, else one of its own
    /// (compiled at its first use like any other unit), generated once per op name.
    public static func pointwise(_ op: UnaryOp) -> CUDAKernelSource {
        if op.isBuiltin { return activations }
        generatedLock.lock()
        defer { generatedLock.unlock() }
        if let unit = generated[op.name] { return unit }
        let unit = pointwiseUnit(name: "\(op.name).cu", ops: [op])
        generated[op.name] = unit
        return unit
    }

    // Every launch of a new op asks for its unit: keep the generated source instead of rebuilding it.
    private static let generatedLock = NSLock()
    nonisolated(unsafe) private static var generated: [String: CUDAKernelSource] = [:]

    static func pointwiseUnit(name: String, ops: [UnaryOp]) -> CUDAKernelSource {
        CUDAKernelSource(name: name, body: pointwiseHelpers + ops.map(kernels(for:)).joined(separator: "\n"),
                         entryPoints: ops.flatMap { ["\($0.name)_f32", "\($0.name)_backward_f32"] })
    }

    /// The two kernels of `op`, from its expressions.
    static func kernels(for op: UnaryOp) -> String {
        let parameters = op.parameters.indices.map { ", float p\($0)" }.joined()
        return """
        extern "C" __global__ void \(op.name)_f32(const float* __restrict__ a, float* __restrict__ out, i64 n\(parameters)) {
            NT_GRID_STRIDE(i, n) { float x = a[i]; out[i] = (\(op.cuda.forward)); }
        }
        extern "C" __global__ void \(op.name)_backward_f32(const float* __restrict__ g, const float* __restrict__ s,
                                                        float* __restrict__ out, i64 n\(parameters)) {
            NT_GRID_STRIDE(i, n) { float gv = g[i], v = s[i]; out[i] = (\(op.cuda.backward)); }
        }

        """
    }
}
