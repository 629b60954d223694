import CFloatMath
import Foundation

extension Kernels {
    /// Elements per chunk below which elementwise kernels stay on one thread (thread start-up costs
    /// more than the work).
    public static let elementwiseMinChunk = 16384

    /// A fresh tensor shaped like `a`, filled by `body(src, dst, range)` over disjoint chunks in
    /// parallel. `body` runs once per chunk, so its inner pointer loop inlines and vectorises.
    @inline(__always)
    public static func map(
        _ a: Tensor, _ body: (_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Void
    ) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        let pa = a.data, po = out.data
        Parallel.forEachChunk(a.count, minChunk: elementwiseMinChunk) { _, r in body(pa, po, r) }
        return out
    }

    /// Like `map`, over two same-shaped tensors (typically an upstream gradient and a saved tensor).
    @inline(__always)
    public static func map2(
        _ a: Tensor, _ b: Tensor,
        _ body: (_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Void
    ) -> Tensor {
        precondition(a.shape == b.shape, "elementwise op on shapes \(a.shape) and \(b.shape)")
        let out = Tensor(uninitialized: a.shape)
        let pa = a.data, pb = b.data, po = out.data
        Parallel.forEachChunk(a.count, minChunk: elementwiseMinChunk) { _, r in body(pa, pb, po, r) }
        return out
    }
}

// MARK: Differentiable unary math

extension Tensor {
    /// Elementwise eˣ.
    public func exp() -> Tensor { applying(.exp) }

    /// Elementwise natural logarithm.
    public func log() -> Tensor { applying(.log) }

    /// Elementwise square root.
    public func sqrt() -> Tensor { applying(.sqrt) }

    /// Elementwise |x|; the gradient at 0 is 0, as in PyTorch.
    public func abs() -> Tensor { applying(.abs) }

    /// Elementwise xᵖ.
    public func pow(_ p: Float) -> Tensor { applying(.pow(p)) }

    /// Elementwise clamp to [min, max] (either bound may be nil). The gradient flows where
    /// min ≤ x ≤ max, as in PyTorch.
    public func clamp(min lo: Float?, max hi: Float?) -> Tensor {
        let a = lo ?? -Float.infinity, b = hi ?? Float.infinity
        precondition(!(a > b), "clamp: min \(a) is larger than max \(b)")
        return applying(.clamp(a, b))
    }
}
