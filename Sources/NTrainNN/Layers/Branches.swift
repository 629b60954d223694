import NTrainCore

/// Paths applied to the same input and merged: by elementwise sum (a residual block: a body and a
/// shortcut) or by concatenation along the channels (Inception's branches, DenseNet's
/// `concat(x, f(x))`), then an optional activation. An empty path is the identity.
///
/// The input feeds every path, so its gradient is the sum of theirs (autograd accumulates a tensor
/// used more than once). Each path is a `Sequential`, so its Conv → ReLU → pool runs keep the fused
/// kernels.
public final class Branches: Module {
    public enum Merge: String, Sendable {
        /// Elementwise sum; every path must give the same shape.
        case add
        /// Concatenation along dimension 1; the paths may differ only in it.
        case concat
    }

    public let paths: [Sequential]
    public let merge: Merge
    public let activation: Activation?
    /// The names of the paths (`body`, `shortcut` for a residual block; `0`, `1`, … otherwise).
    public let pathNames: [String]

    public init(_ paths: [Sequential], merge: Merge, activation: Activation? = nil, names: [String]? = nil) {
        precondition(!paths.isEmpty, "Branches needs at least one path")
        self.paths = paths
        self.merge = merge
        self.activation = activation
        pathNames = names ?? paths.indices.map(String.init)
        precondition(pathNames.count == paths.count && Set(pathNames).count == paths.count, "path names must be unique, one per path")
    }

    /// A residual block: `activation(body(x) + shortcut(x))`, the shortcut the identity when empty.
    public static func residual(body: Sequential, shortcut: Sequential = Sequential([]), activation: Activation? = nil) -> Branches {
        Branches([body, shortcut], merge: .add, activation: activation, names: ["body", "shortcut"])
    }

    public override var children: [(String, Module)] {
        var out: [(String, Module)] = Array(zip(pathNames, paths.map { $0 as Module }))
        if let activation { out.append(("activation", activation)) }
        return out
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let outputs = paths.map { $0.layers.isEmpty ? input : $0.forward(input) }
        var merged: Tensor
        switch merge {
        case .add:
            merged = outputs[0]
            for y in outputs.dropFirst() { merged = merged + y }
        case .concat:
            merged = outputs.count == 1 ? outputs[0] : Tensor.concat(outputs, axis: 1)
        }
        return activation.map { $0.forward(merged) } ?? merged
    }

    /// The shapes every path gives for `input`.
    public func pathShapes(for input: Shape) throws -> [Shape] {
        try paths.map { try $0.outputShape(for: input) }
    }

    public override func outputShape(for input: Shape) throws -> Shape {
        let shapes = try pathShapes(for: input)
        let merged = try Self.merged(shapes, merge: merge, names: pathNames)
        return try activation?.outputShape(for: merged) ?? merged
    }

    /// The merge of `shapes`, or an error naming each path's shape.
    public static func merged(_ shapes: [Shape], merge: Merge, names: [String]) throws -> Shape {
        let first = shapes[0]
        let listed = zip(names, shapes).map { "\($0) gives \($1)" }.joined(separator: ", ")
        switch merge {
        case .add:
            guard shapes.allSatisfy({ $0 == first }) else {
                throw ModuleError.invalidOption(layer: "add", message: "the paths must give the same shape to be added: \(listed)")
            }
            return first
        case .concat:
            guard first.rank >= 2, shapes.allSatisfy({ s in s.rank == first.rank && (0..<s.rank).allSatisfy { $0 == 1 || s[$0] == first[$0] } }) else {
                throw ModuleError.invalidOption(layer: "concat", message: "the paths must agree in every dimension but the channels (1) to be concatenated: \(listed)")
            }
            var dims = first.dims
            dims[1] = shapes.reduce(0) { $0 + $1[1] }
            return Shape(dims)
        }
    }

    public override var summary: String {
        let parts = zip(pathNames, paths).map { name, path in
            path.layers.isEmpty ? "\(name): identity" : "\(name): " + path.layers.map(\.1.summary).joined(separator: " → ")
        }
        let kind = merge == .add && pathNames == ["body", "shortcut"] ? "Residual" : "Branches(\(merge.rawValue))"
        return "\(kind)(" + parts.joined(separator: "; ") + (activation.map { "; then \($0.summary)" } ?? "") + ")"
    }
}

/// The identity (PyTorch's `nn.Identity`).
public final class Identity: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input }
    public override func outputShape(for input: Shape) throws -> Shape { input }
    public override var summary: String { "Identity" }
}

/// The mean over each channel's whole image: `[N, C, H, W]` → `[N, C, 1, 1]` for any H and W
/// (PyTorch's `AdaptiveAvgPool2d(1)`), composed from average pooling with the image as the kernel.
public final class GlobalAvgPool2d: Module {
    public override init() { super.init() }

    public override func forward(_ input: Tensor) -> Tensor {
        let h = input.shape[2], w = input.shape[3]
        return input.avgPool2d(kernel: (h, w), stride: (h, w), padding: (0, 0))
    }

    public override func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 4 else { throw ModuleError.badInput(layer: summary, expected: "[N, C, H, W]", got: input) }
        return Shape([input[0], input[1], 1, 1])
    }

    public override var summary: String { "GlobalAvgPool2d" }
}
