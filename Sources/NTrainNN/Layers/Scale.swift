import NTrainCore

/// Multiplies its input by a constant (airbench's `Mul`, a fixed temperature on the logits).
public final class Scale: Module {
    public let factor: Float

    public init(_ factor: Float) { self.factor = factor }

    public override func forward(_ input: Tensor) -> Tensor { input * factor }

    public override var summary: String { "Scale(\(factor))" }
}
