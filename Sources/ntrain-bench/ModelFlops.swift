import NTrainCore
import NTrainNN

/// Floating-point operations of a model per example, counting multiply and add as two FLOPs in the
/// convolutions and linear layers (the GEMM work; element-wise ops, pooling and the optimizer are
/// left out, so the GEMM-ceiling share is an upper bound on how much of the time is GEMM).
enum ModelFlops {
    /// Forward FLOPs per example for input `input` ([C, H, W] or [F]), and those of the first
    /// weighted layer (whose input needs no gradient in training).
    static func forward(_ model: Module, input: Shape) throws -> (total: Double, firstLayer: Double) {
        var total = 0.0
        var first: Double?
        try model.walkLayers(input: Shape([1] + input.dims)) { _, layer, shape in
            var flops: Double?
            if let conv = layer as? Conv2d {
                let perOutput = Double(conv.inChannels / conv.groups * conv.kernel.0 * conv.kernel.1)
                flops = 2 * perOutput * Double(try conv.outputShape(for: shape).count)
            } else if let linear = layer as? Linear {
                flops = 2 * Double(linear.inFeatures * linear.outFeatures)
            }
            if let flops {
                total += flops
                if first == nil { first = flops }
            }
        }
        return (total, first ?? 0)
    }

    /// Training FLOPs per example: forward, weight gradient (as much again) and input gradient
    /// (as much again, except for the first layer, whose input is data).
    static func training(_ model: Module, input: Shape) throws -> Double {
        let f = try forward(model, input: input)
        return 3 * f.total - f.firstLayer
    }
}
