import Foundation

extension Kernels {
    /// Softmax (or log-softmax) along `axis`, subtracting the maximum first so large logits do not
    /// overflow. Works on the [outer, reduced, inner] view: for inner == 1 (the last axis) rows are
    /// contiguous; otherwise whole inner rows are combined so loops still vectorise.
    public static func softmax(_ a: Tensor, axis: Int, log: Bool) -> Tensor {
        let ax = a.shape.axis(axis)
        let (outer, reduced, inner) = split(a.shape, ax, ax)
        let out = Tensor(uninitialized: a.shape)
        guard reduced > 0 else { return out }
        let src = a.data, dst = out.data
        let block = reduced * inner
        Parallel.forEachChunk(outer, minChunk: Swift.max(1, elementwiseMinChunk / Swift.max(1, block))) { _, range in
            if inner == 1 {
                for o in range { softmaxRow(src + o * reduced, dst + o * reduced, reduced, log: log) }
                return
            }
            // Per-column max and sum over the reduced axis, in scratch rows of length `inner`.
            let m = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            let s = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            defer { m.deallocate(); s.deallocate() }
            for o in range {
                let x = src + o * block, y = dst + o * block
                m.update(from: x, count: inner)
                for r in 1..<reduced {
                    let row = x + r * inner
                    for i in 0..<inner { m[i] = row[i] > m[i] ? row[i] : m[i] }
                }
                s.update(repeating: 0, count: inner)
                for r in 0..<reduced {
                    let yr = y + r * inner
                    Kernels.exp(x + r * inner, minus: m, into: yr, count: inner)
                    for i in 0..<inner { s[i] += yr[i] }
                }
                if log {
                    // (x − max) − log Σ: subtracting max first keeps precision for large logits.
                    for i in 0..<inner { s[i] = Foundation.log(s[i]) }
                    for r in 0..<reduced {
                        let xr = x + r * inner, yr = y + r * inner
                        for i in 0..<inner { yr[i] = (xr[i] - m[i]) - s[i] }
                    }
                } else {
                    for i in 0..<inner { s[i] = 1 / s[i] }
                    for r in 0..<reduced {
                        let yr = y + r * inner
                        for i in 0..<inner { yr[i] *= s[i] }
                    }
                }
            }
        }
        return out
    }

    /// Softmax or log-softmax of one contiguous row.
    @inline(__always)
    static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
        var m = x[0]
        for i in 1..<Swift.max(1, n) { m = x[i] > m ? x[i] : m }
        // Exponentiate first (vectorised), then sum in fixed order.
        Kernels.exp(x, minus: m, into: y, count: n)
        let s = sumContiguous(y, n)
        if log {
            let logSum = Foundation.log(s)
            for i in 0..<n { y[i] = (x[i] - m) - logSum }
        } else {
            let inv = 1 / s
            for i in 0..<n { y[i] *= inv }
        }
    }
}

extension Tensor {
    /// Softmax along `axis` (numerically stable).
    public func softmax(axis: Int = -1) -> Tensor {
        recording("softmax", inputs: [self], backend.softmax(self, axis: shape.axis(axis), log: false))
    }

    /// log(softmax) along `axis`, computed directly as x − max − log Σ exp(x − max).
    public func logSoftmax(axis: Int = -1) -> Tensor {
        recording("log_softmax", inputs: [self], backend.softmax(self, axis: shape.axis(axis), log: true))
    }
}
