extension Kernels {
    /// dst[0..<n] = src[0..<n] for short rows (im2col's output rows are 5 to 32 floats): eight
    /// lanes at a time (one AVX register in the Haswell-class build, two SSE ones otherwise), then
    /// four, with an overlapping last vector instead of a scalar tail. The plain loop spends most of
    /// its time on overlap checks and remainders at these lengths. Rows must not overlap.
    @inline(__always)
    static func copyRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        if n < 4 {
            for i in 0..<n { dst[i] = src[i] }
            return
        }
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        if n >= 8 {
            var i = 0
            while i + 8 <= n {
                d.storeBytes(of: s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            if i < n {
                let j = (n - 8) * 4
                d.storeBytes(of: s.loadUnaligned(fromByteOffset: j, as: SIMD8<Float>.self), toByteOffset: j, as: SIMD8<Float>.self)
            }
            return
        }
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: 0, as: SIMD4<Float>.self), toByteOffset: 0, as: SIMD4<Float>.self)
        let j = (n - 4) * 4
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: j, as: SIMD4<Float>.self), toByteOffset: j, as: SIMD4<Float>.self)
    }

    /// dst[0..<n] += src[0..<n] for short rows (col2im): eight lanes at a time, then four, then
    /// two, then one (an overlapping vector would add twice). LeNet conv2's 10-float rows: 8 + 2.
    @inline(__always)
    static func addRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        var i = 0
        while i + 8 <= n {
            let v = d.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            d.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        if i + 4 <= n {
            let v = d.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
                + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
            d.storeBytes(of: v, toByteOffset: i * 4, as: SIMD4<Float>.self)
            i += 4
        }
        if i + 2 <= n {
            let v = d.loadUnaligned(fromByteOffset: i * 4, as: SIMD2<Float>.self)
                + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD2<Float>.self)
            d.storeBytes(of: v, toByteOffset: i * 4, as: SIMD2<Float>.self)
            i += 2
        }
        if i < n { dst[i] += src[i] }
    }
}
