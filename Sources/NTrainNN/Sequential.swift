import NTrainCore

/// Modules applied in order. Children are named "0", "1", … (PyTorch's `nn.Sequential`) unless
/// given names, as the built-in models do (`conv1`, `fc1`, …).
public final class Sequential: Module {
    public private(set) var layers: [(String, Module)]

    public init(_ modules: [Module]) {
        layers = modules.enumerated().map { (String($0.offset), $0.element) }
    }

    public init(named: [(String, Module)]) {
        precondition(Set(named.map(\.0)).count == named.count, "duplicate layer names")
        layers = named
    }

    public override var children: [(String, Module)] { layers }

    /// Whether `forward` runs each Conv2d → ReLU → MaxPool2d and Conv2d → GELU → AvgPool2d run of
    /// layers as one fused op (`Conv2d.forwardReluMaxPool`, `forwardGeluAvgPool`), and each other
    /// ReLU → MaxPool2d pair as another
    /// (`Tensor.reluMaxPool2d`): same values and gradients bit for bit, less time and memory.
    public var fusesLayers = true

    public override func forward(_ input: Tensor) -> Tensor {
        var x = input
        var i = 0
        while i < layers.count {
            if fusesLayers, i + 2 < layers.count, let conv = layers[i].1 as? Conv2d,
               let act = layers[i + 1].1 as? Activation, let pool = layers[i + 2].1 as? Pool2d {
                if act.kind == .relu && pool.kind == .max {
                    x = conv.forwardReluMaxPool(x, pool: pool)
                    i += 3
                    continue
                }
                if act.kind == .gelu && pool.kind == .average {
                    x = conv.forwardGeluAvgPool(x, pool: pool)
                    i += 3
                    continue
                }
            }
            if fusesLayers, i + 1 < layers.count, let act = layers[i].1 as? Activation, act.kind == .relu,
               let pool = layers[i + 1].1 as? Pool2d, pool.kind == .max {
                x = x.reluMaxPool2d(kernel: pool.kernel, stride: pool.stride, padding: pool.padding)
                i += 2
                continue
            }
            x = layers[i].1.forward(x)
            i += 1
        }
        return x
    }

    public override func outputShape(for input: Shape) throws -> Shape {
        var s = input
        for (_, layer) in layers { s = try layer.outputShape(for: s) }
        return s
    }
}
