import NTrainCore

/// y = x·Wᵀ + b, with W of shape [out, in] (PyTorch's `nn.Linear`, MindSpore's `Dense`).
public final class Linear: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer = .kaimingUniform,
                generator: inout RandomGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        (weight, self.bias) = initializer.makeParameters(weight: [outFeatures, inFeatures], bias: bias, biasCount: outFeatures,
                                                         fanIn: inFeatures, fanOut: outFeatures, generator: &generator)
    }

    public override func forward(_ input: Tensor) -> Tensor { Tensor.linear(input, weight: weight, bias: bias) }

    public override func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 2, input[1] == inFeatures else {
            throw ModuleError.badInput(layer: "linear(\(inFeatures)→\(outFeatures))", expected: "[N, \(inFeatures)]", got: input)
        }
        return [input[0], outFeatures]
    }

    public override var localParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public override var summary: String { "Linear(\(inFeatures), \(outFeatures)\(bias == nil ? ", bias: false" : ""))" }
}
