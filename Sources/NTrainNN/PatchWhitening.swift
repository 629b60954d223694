import NTrainCore

/// Data-dependent and structured conv initialisations from airbench (Keller Jordan's CIFAR-10
/// speed runs): patch whitening of the first layer and identity (dirac) filters.
public enum PatchWhitening {
    /// Filters that whiten `kernel`-sized patches of `images` ([N, C, H, W]): with the patch
    /// covariance (uncentred, every stride-1 patch of every image) decomposed as Σ = V Λ Vᵀ, filter
    /// k is vₖ / √(λₖ + eps) for the eigenvalues in descending order, followed by their negatives:
    /// `[2·C·kh·kw, C, kh, kw]` values, the layout of a conv weight.
    public static func filters(images device: Tensor, kernel: (Int, Int), eps: Double = 5e-4) -> [Float] {
        let images = device.to(.cpu)  // read element by element on the host (once, before training)
        precondition(images.rank == 4, "patch whitening needs images [N, C, H, W], got \(images.shape)")
        let n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3]
        let (kh, kw) = kernel
        precondition(h >= kh && w >= kw, "patch whitening: \(kh)x\(kw) patches do not fit \(h)x\(w) images")
        let d = c * kh * kw
        let x = images.data
        // One partial covariance per image chunk, summed in a fixed order: the same bits for any thread count.
        let chunks = Swift.min(n, 64)
        var partial = [[Double]](repeating: [Double](repeating: 0, count: d * d), count: chunks)
        partial.withUnsafeMutableBufferPointer { parts in
            let base = parts.baseAddress!
            Parallel.forEachChunk(chunks, minChunk: 1) { _, range in
                var patch = [Double](repeating: 0, count: d)
                for chunk in range {
                    var cov = [Double](repeating: 0, count: d * d)
                    for image in stride(from: chunk, to: n, by: chunks) {
                        let img = x + image * c * h * w
                        for y in 0...(h - kh) {
                            for xx in 0...(w - kw) {
                                var k = 0
                                for ch in 0..<c {
                                    for i in 0..<kh { for j in 0..<kw { patch[k] = Double(img[(ch * h + y + i) * w + xx + j]); k += 1 } }
                                }
                                for a in 0..<d {
                                    let pa = patch[a]
                                    for b in a..<d { cov[a * d + b] += pa * patch[b] }
                                }
                            }
                        }
                    }
                    base[chunk] = cov
                }
            }
        }
        var cov = [Double](repeating: 0, count: d * d)
        for part in partial { for i in 0..<(d * d) { cov[i] += part[i] } }
        let count = Double(n * (h - kh + 1) * (w - kw + 1))
        for a in 0..<d {
            for b in a..<d {
                cov[a * d + b] /= count
                cov[b * d + a] = cov[a * d + b]
            }
        }
        let (values, vectors) = SymmetricEigen.decompose(cov, n: d)
        var out = [Float](repeating: 0, count: 2 * d * d)
        for k in 0..<d {
            let scale = 1 / (Swift.max(values[k], 0) + eps).squareRoot()
            for i in 0..<d {
                out[k * d + i] = Float(vectors[k * d + i] * scale)
                out[(d + k) * d + i] = -out[k * d + i]
            }
        }
        return out
    }

    /// Sets the first min(out, in) filters of `conv` to pass their own input channel through
    /// (1 at the kernel's centre, 0 elsewhere), as `nn.init.dirac_(w[:in_channels])`; the other
    /// filters keep their values. Needs groups 1.
    public static func diracInitialize(_ conv: Conv2d) {
        precondition(conv.groups == 1, "dirac init needs groups 1")
        let (kh, kw) = conv.kernel
        let w = conv.weight.data
        let perFilter = conv.inChannels * kh * kw
        for o in 0..<Swift.min(conv.outChannels, conv.inChannels) {
            for i in 0..<perFilter { w[o * perFilter + i] = 0 }
            w[o * perFilter + (o * kh + kh / 2) * kw + kw / 2] = 1
        }
    }
}
