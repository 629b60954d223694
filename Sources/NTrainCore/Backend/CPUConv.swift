/// Convolution, pooling and batch norm on the CPU (im2col + GEMM, Conv/ kernels).
extension CPUBackend {
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry) -> Differentiated {
        // Training keeps the unfolded input for the weight gradient instead of unfolding it twice.
        // A Winograd forward pass does not unfold it: its backward unfolds a block at a time into
        // cache-resident scratch, cheaper than writing and keeping a batch's columns (a ResNet
        // stage at batch 512: 230-420 MB of fresh pages a step).
        let columns = GradMode.isEnabled && weight.requiresGrad && !g.isPointwise && g.batch > 0 && !Kernels.usesWinograd(g)
            ? Tensor(uninitialized: [g.batch, g.columnFloatsPerImage]) : nil
        let out = Kernels.conv2d(x, weight: weight, bias: bias, geometry: g, columns: columns?.data)
        return (out, { grad in
            let r = Kernels.conv2dBackward(
                grad, input: x, weight: weight, geometry: g,
                inputGrad: x.requiresGrad, weightGrad: weight.requiresGrad, biasGrad: bias?.requiresGrad ?? false,
                columns: columns.map { UnsafePointer($0.data) })
            return bias == nil ? [r.input, r.weight] : [r.input, r.weight, r.bias]
        })
    }

    public func maxPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> Differentiated {
        let (out, indices) = Kernels.maxPool2d(x, geometry: g)
        return (out, { grad in [Kernels.maxPool2dBackward(grad, indices: indices, geometry: g)] })
    }

    public func avgPool2d(_ x: Tensor, geometry g: Pool2dGeometry) -> Differentiated {
        (Kernels.avgPool2d(x, geometry: g), { grad in [Kernels.avgPool2dBackward(grad, geometry: g)] })
    }

    public func batchNorm(_ x: Tensor, n: Int, c: Int, s: Int, runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?,
                          training: Bool, momentum: Float, eps: Float) -> Differentiated {
        let mean: Tensor, invStd = Tensor(uninitialized: [c])
        if training {
            let count = n * s
            let stats = Kernels.batchNormStatistics(x)
            mean = stats.mean
            let rm = runningMean.data, rv = runningVar.data, bm = stats.mean.data, bv = stats.variance.data
            let unbias = Float(count) / Float(count - 1)
            for ch in 0..<c {
                invStd.data[ch] = 1 / (bv[ch] + eps).squareRoot()
                rm[ch] = (1 - momentum) * rm[ch] + momentum * bm[ch]
                rv[ch] = (1 - momentum) * rv[ch] + momentum * bv[ch] * unbias
            }
        } else {
            // Copies: the running buffers may change before backward runs.
            mean = runningMean.copy()
            for ch in 0..<c { invStd.data[ch] = 1 / (runningVar.data[ch] + eps).squareRoot() }
        }
        let out = Kernels.batchNormApply(x, mean: mean, invStd: invStd, weight: weight, bias: bias)
        return (out, { grad in
            let r = Kernels.batchNormBackward(
                grad, input: x, mean: mean, invStd: invStd, weight: weight, training: training,
                inputGrad: x.requiresGrad, weightGrad: weight?.requiresGrad ?? false, biasGrad: bias?.requiresGrad ?? false)
            var grads: [Tensor?] = [r.input]
            if weight != nil { grads.append(r.weight) }
            if bias != nil { grads.append(r.bias) }
            return grads
        })
    }
}
