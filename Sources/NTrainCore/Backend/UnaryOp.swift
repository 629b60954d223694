import CFloatMath
import Foundation

/// An elementwise function, defined once for every backend: its scalar forward and backward (what
/// the CPU runs, unless `CPUBackend` has a hand-vectorised kernel for it) and the same two as
/// CUDA C expressions (the CUDA kernels are generated from them, `CUDAKernels.pointwise`).
///
/// A new op is one value of this type (see `UnaryOpDefinitionTests`): for example
///
///     let softplus = UnaryOp(name: "softplus", saves: .input,
///                            forward: { Foundation.log1p(Foundation.exp($0)) },
///                            backward: { g, x in g / (1 + Foundation.exp(-x)) },
///                            cuda: (forward: "log1pf(expf(x))", backward: "gv / (1.0f + expf(-v))"))
///     let y = x.applying(softplus)   // CPU or GPU, recorded for backward
///
/// In the CUDA expressions `x` is the input, `gv` the upstream gradient, `v` the saved tensor's
/// element and `p0`, `p1`, … the `parameters`; `CUDAKernels.pointwiseHelpers` (`nt_sigmoid`,
/// `nt_tanh`, `nt_clamp`) may be called. Ops are equal when their names and parameters are.
public struct UnaryOp: Sendable, Hashable, CustomStringConvertible {
    /// The tensor the backward reads besides the upstream gradient.
    public enum Saved: Sendable { case input, output }

    /// The op's name in the autograd graph and its CUDA kernels (`NAME_f32`, `NAME_backward_f32`);
    /// a C identifier, unique among ops.
    public let name: String
    /// Scalar arguments (`p0`, `p1`, … in the CUDA expressions), captured by the Swift closures.
    public let parameters: [Float]
    /// Whether the backward reads x or y (eˣ, √x, σ and tanh use y).
    public let saves: Saved
    /// y = f(x).
    public let forward: @Sendable (Float) -> Float
    /// The input gradient from the upstream gradient g and the saved element.
    public let backward: @Sendable (_ g: Float, _ saved: Float) -> Float
    /// `forward` and `backward` as CUDA C expressions.
    public let cuda: (forward: String, backward: String)

    /// Whether this is one of `builtins` (only those have hand-written CPU kernels).
    let isBuiltin: Bool

    /// A new op. Its name must be a C identifier and not a built-in op's (the name picks its
    /// kernels).
    public init(name: String, parameters: [Float] = [], saves: Saved, forward: @escaping @Sendable (Float) -> Float,
                backward: @escaping @Sendable (_ g: Float, _ saved: Float) -> Float, cuda: (forward: String, backward: String)) {
        precondition(!UnaryOp.builtinNames.contains(name), "\(name) is a built-in op's name; give the new op another")
        self.init(builtin: false, name: name, parameters: parameters, saves: saves, forward: forward, backward: backward, cuda: cuda)
    }

    init(builtin: Bool, name: String, parameters: [Float] = [], saves: Saved, forward: @escaping @Sendable (Float) -> Float,
         backward: @escaping @Sendable (_ g: Float, _ saved: Float) -> Float, cuda: (forward: String, backward: String)) {
        precondition(name.first.map { $0 == "_" || $0.isLetter } == true && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) },
                     "an op name must be a C identifier: \(name)")
        (self.name, self.parameters, self.saves, self.forward, self.backward, self.cuda) = (name, parameters, saves, forward, backward, cuda)
        isBuiltin = builtin
    }

    public var description: String { parameters.isEmpty ? name : "\(name)(\(parameters.map { "\($0)" }.joined(separator: ", ")))" }

    public static func == (a: UnaryOp, b: UnaryOp) -> Bool { a.name == b.name && a.parameters == b.parameters }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(parameters)
    }
}

// MARK: The built-in ops

extension UnaryOp {
    public static let exp = UnaryOp(builtin: true, name: "exp", saves: .output, forward: { Kernels.exp($0) }, backward: { g, y in g * y },
                                    cuda: ("expf(x)", "gv * v"))
    public static let log = UnaryOp(builtin: true, name: "log", saves: .input, forward: { Foundation.log($0) }, backward: { g, x in g / x },
                                    cuda: ("logf(x)", "gv / v"))
    public static let sqrt = UnaryOp(builtin: true, name: "sqrt", saves: .output, forward: { ntrain_sqrtf($0) }, backward: { g, y in g * 0.5 / y },
                                     cuda: ("sqrtf(x)", "gv * 0.5f / v"))
    /// |x|; the gradient at 0 is 0, as in PyTorch.
    public static let abs = UnaryOp(builtin: true, name: "abs", saves: .input, forward: { Swift.abs($0) }, backward: { g, x in x > 0 ? g : (x < 0 ? -g : 0) },
                                    cuda: ("fabsf(x)", "v > 0.0f ? gv : (v < 0.0f ? -gv : 0.0f)"))

    /// xᵖ, with p = 2 as a multiply.
    public static func pow(_ p: Float) -> UnaryOp {
        let q = p - 1
        return UnaryOp(builtin: true, name: "pow", parameters: [p], saves: .input,
                       forward: { x in p == 2 ? x * x : Foundation.pow(x, p) },
                       backward: { g, x in p == 2 ? 2 * x * g : (p == 0 ? 0 : p * Foundation.pow(x, q) * g) },
                       cuda: ("p0 == 2.0f ? x * x : powf(x, p0)",
                              "p0 == 2.0f ? 2.0f * v * gv : (p0 == 0.0f ? 0.0f : p0 * powf(v, p0 - 1.0f) * gv)"))
    }

    /// Clamp to [lo, hi] (±infinity for an open side); the gradient flows where lo ≤ x ≤ hi.
    public static func clamp(_ lo: Float, _ hi: Float) -> UnaryOp {
        UnaryOp(builtin: true, name: "clamp", parameters: [lo, hi], saves: .input,
                forward: { x in Swift.min(Swift.max(x, lo), hi) },
                backward: { g, x in x <= hi ? (x >= lo ? g : 0) : 0 },
                cuda: ("nt_clamp(x, p0, p1)", "v <= p1 ? (v >= p0 ? gv : 0.0f) : 0.0f"))
    }

    /// max(x, 0); the gradient at 0 is 0, and NaN becomes 0, as the fused CPU kernels do.
    public static let relu = UnaryOp(builtin: true, name: "relu", saves: .input, forward: { $0 > 0 ? $0 : 0 }, backward: { g, x in x > 0 ? g : 0 },
                                     cuda: ("x > 0.0f ? x : 0.0f", "v > 0.0f ? gv : 0.0f"))

    /// x for x > 0, else slope·x.
    public static func leakyRelu(slope: Float) -> UnaryOp {
        UnaryOp(builtin: true, name: "leaky_relu", parameters: [slope], saves: .input,
                forward: { x in x > 0 ? x : x * slope }, backward: { g, x in x > 0 ? g : g * slope },
                cuda: ("x > 0.0f ? x : x * p0", "v > 0.0f ? gv : gv * p0"))
    }

    /// Exact GELU, x·Φ(x).
    public static let gelu = UnaryOp(builtin: true, name: "gelu", saves: .input, forward: { Kernels.gelu($0) },
                                     backward: { g, x in g * Kernels.geluDerivative(x, cdf: Kernels.normalCDF(x)) },
                                     cuda: ("0.5f * x * (1.0f + erff(x * 0.70710678118654752f))",
                                            "gv * (0.5f * (1.0f + erff(v * 0.70710678118654752f)) + v * (0.39894228040143268f * expf(-0.5f * v * v)))"))

    /// The logistic sigmoid 1 / (1 + e⁻ˣ), in a form that never overflows.
    public static let sigmoid = UnaryOp(builtin: true, name: "sigmoid", saves: .output,
                                        forward: { Kernels.sigmoid($0) },
                                        backward: { g, y in g * y * (1 - y) }, cuda: ("nt_sigmoid(x)", "gv * v * (1.0f - v)"))

    public static let tanh = UnaryOp(builtin: true, name: "tanh", saves: .output, forward: { Kernels.tanh($0) }, backward: { g, y in g * (1 - y * y) },
                                     cuda: ("nt_tanh(x)", "gv * (1.0f - v * v)"))

    /// One instance of every built-in op (each name once): the CUDA activations unit is generated
    /// from these, and the backend tests run them all.
    public static let builtins: [UnaryOp] = [.exp, .log, .sqrt, .abs, .pow(2), .clamp(-1, 1), .relu, .leakyRelu(slope: 0.01), .gelu, .sigmoid, .tanh]

    static let builtinNames: Set<String> = Set(builtins.map(\.name))
}

extension Tensor {
    /// `op` applied elementwise on this tensor's device, recorded for backward: the one dispatch of
    /// every unary op and activation.
    public func applying(_ op: UnaryOp) -> Tensor {
        let backend = self.backend
        let (y, saved) = backend.unary(op, self, recording: GradMode.isEnabled && requiresGrad)
        guard let saved else { return y }
        return y.recorded(op.name, inputs: [self]) { g in [backend.unaryBackward(op, g, saved: saved)] }
    }
}
