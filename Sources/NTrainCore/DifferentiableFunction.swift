/// A user-defined differentiable op: a forward computation and its hand-written backward, like the
/// course lab's GELU. Apply it with `Tensor.apply(_:)`; check it with `gradientCheck`.
///
/// ```swift
/// struct Cube: DifferentiableFunction {
///     func forward(_ x: [Tensor]) -> Tensor { x[0] * x[0] * x[0] }   // any kernels
///     func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
///         [g * x[0] * x[0] * 3]
///     }
/// }
/// let y = Tensor.apply(Cube(), to: [x])
/// ```
public protocol DifferentiableFunction {
    /// A name for error messages and graph dumps.
    var name: String { get }
    /// Computes the output. Runs with recording off: ops used here leave no history.
    func forward(_ inputs: [Tensor]) -> Tensor
    /// Maps the output's gradient to one gradient per input (nil for inputs that need none).
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?]
}

extension DifferentiableFunction {
    public var name: String { String(describing: Self.self) }
}

extension Tensor {
    /// Applies a user-defined op and records it so `backward()` calls its `backward`.
    public static func apply<F: DifferentiableFunction>(_ function: F, to inputs: [Tensor]) -> Tensor {
        let out = noGrad { function.forward(inputs) }
        // The output may share storage with an input; give the node its own tensor object.
        let result = out.gradNode == nil && !inputs.contains(where: { $0 === out }) ? out : out.detached()
        return result.recorded(function.name, inputs: inputs) { g in
            function.backward(inputs, output: result, gradient: g)
        }
    }
}
