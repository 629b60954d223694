extension Kernels {
    // Sums over contiguous floats with eight independent SIMD lanes (plain sums: `sumContiguous`). A plain `s += p[i]` loop is one
    // long dependency chain (floating-point addition is not reassociated by the compiler); eight
    // lanes vectorise it. The order is fixed, so results are still deterministic.

    /// Σ (p[i] − center)².
    @inline(__always)
    static func laneSumSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, center: Float) -> Float {
        let raw = UnsafeRawPointer(p)
        let c = SIMD8<Float>(repeating: center)
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - c
            acc += d * d
            i += 8
        }
        var s = acc.sum()
        while i < n { let d = p[i] - center; s += d * d; i += 1 }
        return s
    }

    /// (Σ a[i], Σ a[i]·(b[i] − center)) in one pass.
    @inline(__always)
    static func laneSumAndProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, center: Float) -> (Float, Float) {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        let c = SIMD8<Float>(repeating: center)
        var sum = SIMD8<Float>(), dot = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let va = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            sum += va
            dot += va * (rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - c)
            i += 8
        }
        var s = sum.sum(), d = dot.sum()
        while i < n { s += a[i]; d += a[i] * (b[i] - center); i += 1 }
        return (s, d)
    }
}
