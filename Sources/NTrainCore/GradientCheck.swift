/// The outcome of comparing analytic gradients with central finite differences.
public struct GradientCheckResult: CustomStringConvertible {
    /// Largest |analytic − numeric| / max(1, |numeric|) over all checked elements.
    public var maxError: Float
    /// Which input and element gave `maxError`.
    public var worstInput: Int
    public var worstIndex: Int
    public var analytic: Float
    public var numeric: Float
    public var passed: Bool

    public var description: String {
        "gradient check \(passed ? "passed" : "FAILED"): max error \(maxError) at input \(worstInput)[\(worstIndex)] (analytic \(analytic), numeric \(numeric))"
    }
}

/// Checks `f`'s gradients with respect to every float input that has `requiresGrad`, against
/// central differences of the scalar `sum(f(inputs) * w)` for a fixed random `w`.
///
/// Float32 limits the accuracy of finite differences: keep inputs O(1), `epsilon` near 1e-2..1e-3,
/// and away from kinks (ReLU at 0, max-pool ties). At most `maxElements` elements per input are
/// probed (evenly spaced) to keep large convolutions quick.
public func gradientCheck(
    _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2, maxElements: Int = 200, seed: UInt64 = 7,
    _ f: ([Tensor]) -> Tensor
) -> GradientCheckResult {
    var rng = RandomGenerator(seed: seed)
    let probe = noGrad { f(inputs) }
    let weights = Tensor(shape: probe.shape, scalars: (0..<probe.count).map { _ in rng.uniform(-1, 1) })

    func objective() -> Double {
        let y = noGrad { f(inputs) }
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(weights.data[i]) }
        return s
    }

    for t in inputs { t.grad = nil }
    let y = f(inputs)
    (y * weights).sum().backward()

    var result = GradientCheckResult(maxError: 0, worstInput: -1, worstIndex: -1, analytic: 0, numeric: 0, passed: true)
    for (k, t) in inputs.enumerated() where t.requiresGrad && t.dtype == .float32 {
        let analytic = t.grad?.scalars ?? [Float](repeating: 0, count: t.count)
        let step = max(1, t.count / maxElements)
        for i in stride(from: 0, to: t.count, by: step) {
            let saved = t.data[i]
            t.data[i] = saved + epsilon
            let plus = objective()
            t.data[i] = saved - epsilon
            let minus = objective()
            t.data[i] = saved
            let numeric = Float((plus - minus) / (2 * Double(epsilon)))
            let err = abs(analytic[i] - numeric) / max(1, abs(numeric))
            if err > result.maxError || result.worstInput < 0 {
                result.maxError = err
                result.worstInput = k
                result.worstIndex = i
                result.analytic = analytic[i]
                result.numeric = numeric
            }
        }
    }
    result.passed = result.maxError <= tolerance
    return result
}
