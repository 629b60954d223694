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

    /// Whether the forward pass fuses conv → activation → pool runs of layers (`LayerFusion`):
    /// same values and gradients bit for bit, less time and memory.
    public var fusesLayers = true {
        didSet { steps = nil }
    }

    /// The fusion pass's plan for `layers`, made on the first forward.
    private var steps: [LayerFusion.Step]?

    public override func forward(_ input: Tensor) -> Tensor {
        let plan = steps ?? LayerFusion.plan(layers.map(\.1), fuse: fusesLayers)
        steps = plan
        var x = input
        for step in plan { x = step(x) }
        return x
    }

    public override func outputShape(for input: Shape) throws -> Shape {
        var s = input
        for (_, layer) in layers { s = try layer.outputShape(for: s) }
        return s
    }
}
