/// A convolution or pooling configuration that does not fit its input.
public enum ConvError: Error, CustomStringConvertible, Equatable {
    /// The input is not [N, C, H, W] (or the weight not [O, C/groups, kh, kw]).
    case badRank(op: String, what: String, shape: [Int], expected: String)
    /// Channels do not match the weight, or do not divide by `groups`.
    case channelMismatch(op: String, detail: String)
    /// Kernel, stride, padding or dilation out of range.
    case badParameter(op: String, detail: String)
    /// The (padded, dilated) kernel is larger than the padded input.
    case outputEmpty(op: String, input: [Int], detail: String)

    public var description: String {
        switch self {
        case let .badRank(op, what, shape, expected):
            return "\(op): \(what) has shape \(shape), expected \(expected); reshape or flatten the data before this layer"
        case let .channelMismatch(op, detail):
            return "\(op): \(detail); check the layer's in-channels against the previous layer's output"
        case let .badParameter(op, detail):
            return "\(op): \(detail)"
        case let .outputEmpty(op, input, detail):
            return "\(op): input of shape \(input) is too small (\(detail)); use a smaller kernel or stride, more padding, or larger images"
        }
    }
}

/// Sizes of a 2-D convolution: input [N, C, H, W], weight [O, C/groups, kh, kw], output [N, O, oh, ow].
public struct Conv2dGeometry: Equatable, Sendable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var strideY, strideX, padY, padX, dilationY, dilationX, groups: Int
    public var outHeight, outWidth: Int

    /// Validates the configuration; throws `ConvError` with a user-facing message when it does not fit.
    public init(
        input: Shape, weight: Shape, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) throws {
        let op = "conv2d"
        guard input.rank == 4 else { throw ConvError.badRank(op: op, what: "input", shape: input.dims, expected: "[N, C, H, W]") }
        guard weight.rank == 4 else {
            throw ConvError.badRank(op: op, what: "weight", shape: weight.dims, expected: "[out, in/groups, kh, kw]")
        }
        guard groups >= 1 else { throw ConvError.badParameter(op: op, detail: "groups must be ≥ 1, got \(groups)") }
        guard stride.0 >= 1, stride.1 >= 1 else { throw ConvError.badParameter(op: op, detail: "stride must be ≥ 1, got \(stride)") }
        guard padding.0 >= 0, padding.1 >= 0 else { throw ConvError.badParameter(op: op, detail: "padding must be ≥ 0, got \(padding)") }
        guard dilation.0 >= 1, dilation.1 >= 1 else {
            throw ConvError.badParameter(op: op, detail: "dilation must be ≥ 1, got \(dilation)")
        }
        guard weight[2] >= 1, weight[3] >= 1 else {
            throw ConvError.badParameter(op: op, detail: "kernel must be at least 1x1, weight shape is \(weight)")
        }
        let c = input[1], o = weight[0]
        guard c % groups == 0, o % groups == 0 else {
            throw ConvError.channelMismatch(op: op, detail: "in-channels \(c) and out-channels \(o) must both divide by groups \(groups)")
        }
        guard weight[1] * groups == c else {
            throw ConvError.channelMismatch(op: op, detail: "input has \(c) channels but the weight \(weight) expects \(weight[1] * groups) (groups \(groups))")
        }
        batch = input[0]; inChannels = c; height = input[2]; width = input[3]
        outChannels = o; kernelHeight = weight[2]; kernelWidth = weight[3]
        strideY = stride.0; strideX = stride.1; padY = padding.0; padX = padding.1
        dilationY = dilation.0; dilationX = dilation.1; self.groups = groups
        let spanY = dilationY * (kernelHeight - 1) + 1, spanX = dilationX * (kernelWidth - 1) + 1
        guard height + 2 * padY >= spanY, width + 2 * padX >= spanX else {
            throw ConvError.outputEmpty(op: op, input: input.dims,
                                        detail: "kernel spans \(spanY)x\(spanX) but the padded input is \(height + 2 * padY)x\(width + 2 * padX)")
        }
        outHeight = (height + 2 * padY - spanY) / strideY + 1
        outWidth = (width + 2 * padX - spanX) / strideX + 1
    }

    public var inputShape: Shape { [batch, inChannels, height, width] }
    public var outputShape: Shape { [batch, outChannels, outHeight, outWidth] }
    public var weightShape: Shape { [outChannels, inChannels / groups, kernelHeight, kernelWidth] }
    /// Rows of one group's im2col matrix: (C/groups)·kh·kw.
    var groupColumnRows: Int { inChannels / groups * kernelHeight * kernelWidth }
    /// Output pixels per image (columns of the im2col matrix).
    var outPixels: Int { outHeight * outWidth }
    /// 1x1 kernel, stride 1, no padding: the input image already is the im2col matrix.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && strideY == 1 && strideX == 1 && padY == 0 && padX == 0 }
}

/// Sizes of a 2-D pooling window over input [N, C, H, W] (output [N, C, oh, ow]).
public struct Pool2dGeometry: Equatable, Sendable {
    public var batch, channels, height, width: Int
    public var kernelHeight, kernelWidth, strideY, strideX, padY, padX: Int
    public var outHeight, outWidth: Int

    /// The common 2x2, stride-2, unpadded window (LeNet's pools), which kernels unroll.
    var isTwoByTwo: Bool { kernelHeight == 2 && kernelWidth == 2 && strideY == 2 && strideX == 2 && padY == 0 && padX == 0 }

    /// Validates like PyTorch (padding at most half the kernel); `stride` nil means the kernel size.
    public init(op: String, input: Shape, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws {
        guard input.rank == 4 else { throw ConvError.badRank(op: op, what: "input", shape: input.dims, expected: "[N, C, H, W]") }
        let s = stride ?? kernel
        guard kernel.0 >= 1, kernel.1 >= 1 else { throw ConvError.badParameter(op: op, detail: "kernel must be ≥ 1, got \(kernel)") }
        guard s.0 >= 1, s.1 >= 1 else { throw ConvError.badParameter(op: op, detail: "stride must be ≥ 1, got \(s)") }
        guard padding.0 >= 0, padding.1 >= 0, padding.0 <= kernel.0 / 2, padding.1 <= kernel.1 / 2 else {
            throw ConvError.badParameter(op: op, detail: "padding \(padding) must be between 0 and half the kernel \(kernel)")
        }
        batch = input[0]; channels = input[1]; height = input[2]; width = input[3]
        kernelHeight = kernel.0; kernelWidth = kernel.1; strideY = s.0; strideX = s.1; padY = padding.0; padX = padding.1
        guard height + 2 * padY >= kernelHeight, width + 2 * padX >= kernelWidth else {
            throw ConvError.outputEmpty(op: op, input: input.dims,
                                        detail: "window is \(kernelHeight)x\(kernelWidth) but the padded input is \(height + 2 * padY)x\(width + 2 * padX)")
        }
        outHeight = (height + 2 * padY - kernelHeight) / strideY + 1
        outWidth = (width + 2 * padX - kernelWidth) / strideX + 1
    }

    public var inputShape: Shape { [batch, channels, height, width] }
    public var outputShape: Shape { [batch, channels, outHeight, outWidth] }
}

/// Builds a geometry inside an op, where a mismatch is a programmer error: layers validate with the
/// throwing initialisers first, so users see the `ConvError` message instead of a trap.
@inline(__always)
func validGeometry<T>(_ make: () throws -> T) -> T {
    do { return try make() } catch { preconditionFailure("\(error)") }
}
