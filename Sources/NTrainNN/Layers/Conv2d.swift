import NTrainCore

/// 2-D convolution over [N, C, H, W] (PyTorch's `nn.Conv2d`): weight [out, in/groups, kh, kw].
public final class Conv2d: Module {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                initializer: Initializer = .kaimingUniform, generator: inout RandomGenerator) throws {
        let name = "conv2d(\(inChannels)→\(outChannels))"
        guard groups >= 1, inChannels % groups == 0, outChannels % groups == 0 else {
            throw ModuleError.invalidOption(layer: name, message: "in (\(inChannels)) and out (\(outChannels)) channels must both be divisible by groups (\(groups))")
        }
        guard kernel.0 >= 1, kernel.1 >= 1, stride.0 >= 1, stride.1 >= 1, dilation.0 >= 1, dilation.1 >= 1,
              padding.0 >= 0, padding.1 >= 0 else {
            throw ModuleError.invalidOption(layer: name, message: "kernel, stride and dilation must be ≥ 1 and padding ≥ 0")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let fanIn = inChannels / groups * kernel.0 * kernel.1
        let fanOut = outChannels / groups * kernel.0 * kernel.1
        (weight, self.bias) = initializer.makeParameters(weight: [outChannels, inChannels / groups, kernel.0, kernel.1], bias: bias,
                                                         biasCount: outChannels, fanIn: fanIn, fanOut: fanOut, generator: &generator)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public override func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 4, input[1] == inChannels else {
            throw ModuleError.badInput(layer: summary, expected: "[N, \(inChannels), H, W]", got: input)
        }
        let h = Conv2d.outputSize(input[2], kernel.0, stride.0, padding.0, dilation.0)
        let w = Conv2d.outputSize(input[3], kernel.1, stride.1, padding.1, dilation.1)
        guard h >= 1, w >= 1 else {
            throw ModuleError.badInput(layer: summary, expected: "an image of at least the kernel's extent", got: input)
        }
        return [input[0], outChannels, h, w]
    }

    /// ⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1, as PyTorch documents.
    public static func outputSize(_ size: Int, _ kernel: Int, _ stride: Int, _ padding: Int, _ dilation: Int) -> Int {
        let span = size + 2 * padding - dilation * (kernel - 1) - 1
        return span < 0 ? 0 : span / stride + 1
    }

    public override var localParameters: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public override var summary: String {
        var s = "Conv2d(\(inChannels), \(outChannels), kernel: \(kernel.0)x\(kernel.1)"
        if stride != (1, 1) { s += ", stride: \(stride.0)x\(stride.1)" }
        if padding != (0, 0) { s += ", padding: \(padding.0)x\(padding.1)" }
        if dilation != (1, 1) { s += ", dilation: \(dilation.0)x\(dilation.1)" }
        if groups != 1 { s += ", groups: \(groups)" }
        return s + ")"
    }
}
