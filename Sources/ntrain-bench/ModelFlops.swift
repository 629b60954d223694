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
        _ = try walk(model, Shape([1] + input.dims), &total, &first)
        return (total, first ?? 0)
    }

    /// Adds the FLOPs of `module` (through sequences and every path of a block) and returns its output shape.
    private static func walk(_ module: Module, _ shape: Shape, _ total: inout Double, _ first: inout Double?) throws -> Shape {
        if let sequential = module as? Sequential {
            var s = shape
            for (_, layer) in sequential.layers { s = try walk(layer, s, &total, &first) }
            return s
        }
        if let branches = module as? Branches {
            for path in branches.paths { _ = try walk(path, shape, &total, &first) }
            return try branches.outputShape(for: shape)
        }
        let out = try module.outputShape(for: shape)
        var flops: Double?
        if let conv = module as? Conv2d {
            flops = 2 * Double(conv.inChannels / conv.groups * conv.kernel.0 * conv.kernel.1) * Double(out.count)
        } else if let linear = module as? Linear {
            flops = 2 * Double(linear.inFeatures * linear.outFeatures)
        }
        if let flops {
            total += flops
            if first == nil { first = flops }
        }
        return out
    }

    /// Training FLOPs per example: forward, weight gradient (as much again) and input gradient
    /// (as much again, except for the first layer, whose input is data).
    static func training(_ model: Module, input: Shape) throws -> Double {
        let f = try forward(model, input: input)
        return 3 * f.total - f.firstLayer
    }
}
