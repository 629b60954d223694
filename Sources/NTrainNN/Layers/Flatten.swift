import NTrainCore

/// Flattens all dimensions from `startAxis` on (PyTorch's `nn.Flatten`, default start 1).
public final class Flatten: Module {
    public let startAxis: Int

    public init(startAxis: Int = 1) { self.startAxis = startAxis }

    public override func forward(_ input: Tensor) -> Tensor { input.flattened(from: startAxis) }

    public override func outputShape(for input: Shape) throws -> Shape {
        guard startAxis < input.rank else { return input }
        return Shape(Array(input.dims[..<startAxis]) + [input.dims[startAxis...].reduce(1, *)])
    }

    public override var summary: String { "Flatten" }
}
