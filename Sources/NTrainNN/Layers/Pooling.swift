import NTrainCore

/// Max or average pooling over [N, C, H, W] (PyTorch's `nn.MaxPool2d` / `nn.AvgPool2d`, with
/// stride defaulting to the kernel and average pooling counting padding, as PyTorch's defaults).
public final class Pool2d: Module {
    public enum Kind: String, Sendable { case max, average }
    public let kind: Kind
    public let kernel: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public init(_ kind: Kind, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws {
        let s = stride ?? kernel
        guard kernel.0 >= 1, kernel.1 >= 1, s.0 >= 1, s.1 >= 1, padding.0 >= 0, padding.1 >= 0,
              padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1 else {
            throw ModuleError.invalidOption(layer: "\(kind.rawValue)_pool2d", message: "kernel and stride must be ≥ 1 and padding at most half the kernel")
        }
        self.kind = kind
        self.kernel = kernel
        self.stride = s
        self.padding = padding
    }

    public override func forward(_ input: Tensor) -> Tensor {
        switch kind {
        case .max: return input.maxPool2d(kernel: kernel, stride: stride, padding: padding)
        case .average: return input.avgPool2d(kernel: kernel, stride: stride, padding: padding)
        }
    }

    public override func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 4 else { throw ModuleError.badInput(layer: summary, expected: "[N, C, H, W]", got: input) }
        let h = Conv2d.outputSize(input[2], kernel.0, stride.0, padding.0, 1)
        let w = Conv2d.outputSize(input[3], kernel.1, stride.1, padding.1, 1)
        guard h >= 1, w >= 1 else { throw ModuleError.badInput(layer: summary, expected: "an image of at least the kernel's extent", got: input) }
        return [input[0], input[1], h, w]
    }

    public override var summary: String {
        "\(kind == .max ? "MaxPool2d" : "AvgPool2d")(kernel: \(kernel.0)x\(kernel.1), stride: \(stride.0)x\(stride.1)\(padding != (0, 0) ? ", padding: \(padding.0)x\(padding.1)" : ""))"
    }
}
