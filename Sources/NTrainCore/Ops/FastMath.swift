import Foundation

extension Kernels {
    /// eˣ for float32 in plain arithmetic (no libm call), so loops over it vectorise; within 2 ulp
    /// of the exact value (Cephes `expf`: range reduction by ln 2, degree-6 polynomial, 2ⁿ from
    /// the exponent bits). Overflow gives +∞, underflow 0, and NaN propagates.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let hi: Float = 88.72283, lo: Float = -87.33654
        // A NaN is reduced as 0 (and returned as itself below): Int32(NaN) traps in a checked build.
        let (e, n) = expParts(x != x ? 0 : Swift.min(Swift.max(x, lo), hi))
        // 2ⁿ may be 2¹²⁸ (not representable) at the top of the range: scale in two halves.
        let n1 = Int32(n) >> 1, n2 = Int32(n) - (Int32(n) >> 1)
        let s1 = Float(bitPattern: UInt32(bitPattern: n1 &+ 127) << 23)
        let s2 = Float(bitPattern: UInt32(bitPattern: n2 &+ 127) << 23)
        let y = e * s1 * s2
        let clamped = x > hi ? Float.infinity : (x < lo ? 0 : y)
        return x != x ? x : clamped
    }

    /// `exp(x)` for x ≤ 0 (or NaN), for GELU′'s φ(x) = e^(−x²/2)/√(2π): `exp`'s range reduction
    /// and polynomial evaluated with `mulAdd`, and 2ⁿ (n ≥ −126) applied in
    /// one step, since no overflow is possible. Within 2 ulp of the exact value like `exp`, but not
    /// always its bits.
    @inline(__always)
    static func expOfNonPositive(_ x: Float) -> Float {
        let lo: Float = -87.33654
        let (e, n) = expParts(x != x ? 0 : Swift.max(x, lo), fused: true)
        let y = e * Float(bitPattern: UInt32(bitPattern: Int32(n) &+ 127) << 23)
        let clamped = x < lo ? 0 : y
        return x != x ? x : clamped
    }

    /// a·b + c, as one fused multiply-add (one rounding) where the engine is compiled for CPUs
    /// with FMA (`NTRAIN_FMA`: the Haswell-class x86-64 build, AArch64), else as a multiply and an
    /// add. A portable x86-64 build would otherwise call libm's `fmaf` for every step (GELU 5x
    /// slower); it therefore rounds GELU twice per step, so its GELU models differ in the last bits.
    @inline(__always)
    static func mulAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
        #if NTRAIN_FMA
        return c.addingProduct(a, b)
        #else
        return a * b + c
        #endif
    }

    /// eˣ = e·2ⁿ for x already clamped to exp's range: n = round(x / ln 2) (the 1.5·2²³ trick,
    /// round-to-nearest-even, SSE2 friendly) and e = e^r of the remainder by a degree-6 polynomial,
    /// its steps as `mulAdd` when `fused` (GELU′) or as a multiply and an add (`exp`).
    @inline(__always)
    static func expParts(_ xc: Float, fused: Bool = false) -> (e: Float, n: Float) {
        @inline(__always) func step(_ a: Float, _ b: Float, _ c: Float) -> Float { fused ? mulAdd(a, b, c) : a * b + c }
        let shifter: Float = 12582912
        let n = (xc * 1.44269504088896341 + shifter) - shifter
        let r = step(n, 2.12194440e-4, step(n, -0.693359375, xc))
        var p: Float = 1.9875691500e-4
        p = step(p, r, 1.3981999507e-3)
        p = step(p, r, 8.3334519073e-3)
        p = step(p, r, 4.1665795894e-2)
        p = step(p, r, 1.6666665459e-1)
        p = step(p, r, 5.0000001201e-1)
        return (fused ? mulAdd(p, r * r, r + 1) : p * (r * r) + r + 1, n)
    }
}

// Loops over `exp` live in this file: debug builds compile files separately (no whole-module
// optimisation), so `exp` only inlines and vectorises in loops written next to it.
extension Kernels {
    /// dst[i] = exp(src[i] − shift) for i in 0..<n.
    public static func exp(_ src: UnsafePointer<Float>, minus shift: Float = 0, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dst[i] = exp(src[i] - shift) }
    }

    /// dst[i] = exp(a[i] − b[i]) for i in 0..<n.
    public static func exp(_ a: UnsafePointer<Float>, minus b: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dst[i] = exp(a[i] - b[i]) }
    }

    /// sigmoid(x) = 1 / (1 + e^−x), without overflow for large |x|.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        let e = exp(-Swift.abs(x))  // ≤ 1: never overflows
        let d = 1 / (1 + e)
        return x >= 0 ? d : e * d
    }

    /// dst[i] = sigmoid(src[i]).
    public static func sigmoid(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dst[i] = sigmoid(src[i]) }
    }

    /// erf(x) as a rational function of x on [−4, 4] (Eigen's `generic_fast_erf_float`; outside
    /// that range erf is ±1 in float32): within 4.2e-7 of the exact value, NaN propagates, and
    /// unlike libm's `erff` the loops calling it vectorise.
    ///
    /// The polynomials are evaluated with `mulAdd`, fused where the CPU has FMA (GELU 1.4x faster).
    @inline(__always)
    public static func erf(_ a: Float) -> Float {
        let x = a < -4 ? -4 : (a > 4 ? 4 : a)
        let x2 = x * x
        var p: Float = -2.72614225801306e-10
        p = mulAdd(p, x2, 2.77068142495902e-08)
        p = mulAdd(p, x2, -2.10102402082508e-06)
        p = mulAdd(p, x2, -5.69250639462346e-05)
        p = mulAdd(p, x2, -7.34990630326855e-04)
        p = mulAdd(p, x2, -2.95459980854025e-03)
        p = mulAdd(p, x2, -1.60960333262415e-02)
        var q: Float = -1.45660718464996e-05
        q = mulAdd(q, x2, -2.13374055278905e-04)
        q = mulAdd(q, x2, -1.68282697438203e-03)
        q = mulAdd(q, x2, -7.37332916720468e-03)
        q = mulAdd(q, x2, -1.42647390514189e-02)
        return x * p / q
    }

    /// Φ(x) = ½·(1 + erf(x/√2)), the standard normal CDF.
    @inline(__always)
    static func normalCDF(_ x: Float) -> Float { 0.5 * (1 + erf(x * 0.70710678118654752)) }

    /// GELU′(x) = Φ(x) + x·φ(x) (exact, erf form) from x and its Φ(x).
    @inline(__always)
    static func geluDerivative(_ x: Float, cdf: Float) -> Float {
        let pdf = 0.39894228040143268 * expOfNonPositive(-0.5 * x * x)
        return mulAdd(x, pdf, cdf)
    }

    /// dst[i] = GELU(x[i]) = x·Φ(x), and GELU′(x[i]) into `derivative` for the backward pass
    /// (which is then one multiply: saving the derivative instead of x and Φ(x) halves what the
    /// backward pass reads, and gives the same bits as evaluating it there).
    public static func gelu(_ x: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                            derivative: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let v = x[i], c = normalCDF(v)
            derivative[i] = geluDerivative(v, cdf: c)
            dst[i] = v * c
        }
    }

    /// The fused conv → GELU step on one output plane, in place: z = row[i] (+ `bias`), then
    /// row[i] = z·Φ(z); GELU′(z) also into `derivative` when given (training).
    static func biasGelu(_ row: UnsafeMutablePointer<Float>, bias: Float?, derivative dp: UnsafeMutablePointer<Float>?, count n: Int) {
        // One loop per case, the bias add inside: adding a zero bias would turn −0 into +0.
        switch (bias, dp) {
        case let (bias?, dp?):
            for i in 0..<n { let z = row[i] + bias, c = normalCDF(z); dp[i] = geluDerivative(z, cdf: c); row[i] = z * c }
        case let (nil, dp?):
            for i in 0..<n { let z = row[i], c = normalCDF(z); dp[i] = geluDerivative(z, cdf: c); row[i] = z * c }
        case let (bias?, nil):
            for i in 0..<n { let z = row[i] + bias; row[i] = z * normalCDF(z) }
        case (nil, nil):
            for i in 0..<n { let z = row[i]; row[i] = z * normalCDF(z) }
        }
    }
}

extension Kernels {
    /// tanh(x) (Cephes `tanhf`: odd polynomial for |x| < 0.625, else 1 − 2/(e²ˣ + 1)); within a
    /// few ulp of libm, and loops over it vectorise.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let z = Swift.abs(x)
        let large = 1 - 2 / (exp(2 * z) + 1)
        let s = x * x
        var p: Float = -5.70498872745e-3
        p = p * s + 2.06390887954e-2
        p = p * s - 5.37397155531e-2
        p = p * s + 1.33314422036e-1
        p = p * s - 3.33332819422e-1
        let small = p * s * x + x
        return z < 0.625 ? small : (x < 0 ? -large : large)
    }

    /// dst[i] = tanh(src[i]).
    public static func tanh(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { dst[i] = tanh(src[i]) }
    }
}
