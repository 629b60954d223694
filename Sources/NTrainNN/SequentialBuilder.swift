import NTrainCore

/// Builds a `Sequential` layer by layer while tracking the output shape, so each layer's input
/// size (channels, features) is inferred from the data's shape, as PyTorch's lazy modules do.
public struct SequentialBuilder {
    public private(set) var shape: Shape
    public private(set) var layers: [(String, Module)] = []
    public var generator: RandomGenerator

    /// `input` is one example's shape with a batch dimension of 1, e.g. [1, 1, 32, 32].
    public init(input: Shape, generator: RandomGenerator) {
        self.shape = input
        self.generator = generator
    }

    /// Channels (dim 1) of the current shape.
    public var channels: Int { shape.rank > 1 ? shape[1] : 1 }
    /// Features when the current shape is flattened from dim 1.
    public var flatFeatures: Int { shape.dims.dropFirst().reduce(1, *) }

    /// Appends `module` under `name` (default: its index) and advances the tracked shape.
    public mutating func add(_ module: Module, name: String? = nil) throws {
        shape = try module.outputShape(for: shape)
        layers.append((name ?? String(layers.count), module))
    }

    public func build() -> Sequential { Sequential(named: layers) }
}
