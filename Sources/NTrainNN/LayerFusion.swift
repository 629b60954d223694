import NTrainCore

/// The fusion pass: how a run of layers executes. Conv2d → ReLU → MaxPool2d and
/// Conv2d → GELU → AvgPool2d run as one fused conv, and ReLU → MaxPool2d as one fused pool
/// (`Tensor.conv2dReluMaxPool`, `conv2dGeluAvgPool`, `reluMaxPool2d`): the same values and gradients
/// bit for bit, without writing the activation maps in between. Every other layer runs as itself.
/// The modules and their names are untouched, so summaries, state dicts and exports see the layers
/// as built; only the forward pass follows the plan. Residual bodies and branch paths are
/// `Sequential`s, so blocks keep the fused kernels.
public enum LayerFusion {
    /// One step of a forward pass: the next output from the previous one.
    public typealias Step = (Tensor) -> Tensor

    /// The steps that compute `layers` in order, fusing what can be fused when `fuse`.
    public static func plan(_ layers: [Module], fuse: Bool = true) -> [Step] {
        var steps: [Step] = []
        var i = 0
        while i < layers.count {
            if fuse, let (step, width) = fused(layers[i...]) {
                steps.append(step)
                i += width
                continue
            }
            let layer = layers[i]
            steps.append { layer.forward($0) }
            i += 1
        }
        return steps
    }

    /// The fused step that starts `layers`, and how many layers it covers.
    static func fused(_ layers: ArraySlice<Module>) -> (Step, Int)? {
        let run = Array(layers.prefix(3))
        if run.count == 3, let conv = run[0] as? Conv2d, let act = run[1] as? Activation, let pool = run[2] as? Pool2d {
            if act.kind == .relu && pool.kind == .max {
                return ({ $0.conv2dReluMaxPool(weight: conv.weight, bias: conv.bias, stride: conv.stride, padding: conv.padding,
                                               dilation: conv.dilation, groups: conv.groups, poolKernel: pool.kernel,
                                               poolStride: pool.stride, poolPadding: pool.padding) }, 3)
            }
            if act.kind == .gelu && pool.kind == .average {
                return ({ $0.conv2dGeluAvgPool(weight: conv.weight, bias: conv.bias, stride: conv.stride, padding: conv.padding,
                                               dilation: conv.dilation, groups: conv.groups, poolKernel: pool.kernel,
                                               poolStride: pool.stride, poolPadding: pool.padding) }, 3)
            }
        }
        if run.count >= 2, let act = run[0] as? Activation, act.kind == .relu, let pool = run[1] as? Pool2d, pool.kind == .max {
            return ({ $0.reluMaxPool2d(kernel: pool.kernel, stride: pool.stride, padding: pool.padding) }, 2)
        }
        return nil
    }
}
