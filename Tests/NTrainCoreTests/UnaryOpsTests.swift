import Foundation
import XCTest
@testable import NTrainCore

final class UnaryOpsTests: XCTestCase {
    func testMathGradients() {
        var rng = RandomGenerator(seed: 11)
        for trial in 0..<3 {
            let shape = rng.shape(rank: 1 + trial)
            assertGradients([rng.tensor(shape)], "exp \(shape)") { $0[0].exp() }
            assertGradients([rng.tensor(shape, 0.3, 2)], "log \(shape)") { $0[0].log() }
            assertGradients([rng.tensor(shape, 0.3, 2)], "sqrt \(shape)") { $0[0].sqrt() }
            assertGradients([rng.awayFromZero(shape)], "abs \(shape)") { $0[0].abs() }
            assertGradients([rng.tensor(shape)], "pow 2 \(shape)") { $0[0].pow(2) }
            assertGradients([rng.tensor(shape, 0.3, 2)], "pow 1.7 \(shape)") { $0[0].pow(1.7) }
            assertGradients([rng.tensor(shape, 0.5, 2)], "pow -1 \(shape)") { $0[0].pow(-1) }
            assertGradients([rng.tensor(shape)], "pow 3 \(shape)") { $0[0].pow(3) }
        }
    }

    func testClampGradientAwayFromBounds() {
        var rng = RandomGenerator(seed: 12)
        // Inputs have |x| ≥ 0.1 and the bounds are ±0.05, so no input is within epsilon of a kink.
        let x = rng.awayFromZero([3, 7], margin: 0.1)
        assertGradients([x], epsilon: 1e-3, "clamp both") { $0[0].clamp(min: -0.05, max: 0.05) }
        assertGradients([x], epsilon: 1e-3, "clamp min") { $0[0].clamp(min: 0.05, max: nil) }
        assertGradients([x], epsilon: 1e-3, "clamp max") { $0[0].clamp(min: nil, max: -0.05) }
        let y = Tensor(shape: [4], scalars: [-2, -0.5, 0.5, 2]).clamp(min: -1, max: 1)
        XCTAssertEqual(y.scalars, [-1, -0.5, 0.5, 1])
    }

    func testActivationGradients() {
        var rng = RandomGenerator(seed: 13)
        for trial in 0..<3 {
            let shape = rng.shape(rank: 2 + trial % 2, maxSize: 6)
            assertGradients([rng.awayFromZero(shape)], "relu \(shape)") { $0[0].relu() }
            assertGradients([rng.awayFromZero(shape)], "leakyRelu \(shape)") { $0[0].leakyRelu(slope: 0.2) }
            assertGradients([rng.tensor(shape, -3, 3)], "gelu \(shape)") { $0[0].gelu() }
            assertGradients([rng.tensor(shape, -4, 4)], "sigmoid \(shape)") { $0[0].sigmoid() }
            assertGradients([rng.tensor(shape, -2, 2)], "tanh \(shape)") { $0[0].tanh() }
        }
    }

    func testActivationValues() {
        let x = Tensor(shape: [5], scalars: [-100, -1, 0, 1, 100])
        XCTAssertEqual(x.relu().scalars, [0, 0, 0, 1, 100])
        XCTAssertEqual(x.leakyRelu().scalars, [-1, -0.01, 0, 1, 100])
        let s = x.sigmoid().scalars
        XCTAssertEqual(s[0], 0, accuracy: 1e-30)  // no overflow to NaN for large negative inputs
        XCTAssertEqual(s[2], 0.5)
        XCTAssertEqual(s[4], 1)
        XCTAssertEqual(x.gelu().scalars[3], 0.8413447, accuracy: 1e-6)  // Φ(1)
        XCTAssertEqual(x.tanh().scalars[4], 1)
    }

    /// Large tensors take the parallel path; results must equal an element-by-element reference
    /// and not depend on the thread count.
    func testParallelElementwiseMatchesSerial() {
        var rng = RandomGenerator(seed: 14)
        let x = rng.tensor([64, 6, 28, 28], -3, 3, requiresGrad: false)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 4
        let y4 = x.gelu(), r4 = x.relu()
        Parallel.threadCount = 1
        let y1 = x.gelu()
        XCTAssertEqual(y4.scalars, y1.scalars)
        // Recorded for backward, GELU also keeps Φ(x): the output must not change.
        let xg = Tensor(shape: x.shape, scalars: x.scalars, requiresGrad: true)
        XCTAssertEqual(xg.gelu().scalars, y1.scalars)
        let xs = x.scalars, rs = r4.scalars
        for i in stride(from: 0, to: x.count, by: 97) { XCTAssertEqual(rs[i], Swift.max(xs[i], 0)) }
    }
}

final class FastMathTests: XCTestCase {
    /// Kernels.exp replaces libm's expf in hot loops; it must stay within a few ulp everywhere.
    func testExpMatchesLibm() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88.7 {
            let exact = Foundation.exp(Double(x)), approx = Double(Kernels.exp(x))
            worst = Swift.max(worst, Swift.abs(approx - exact) / exact)
            x += 0.0137
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(Kernels.exp(0), 1)
        XCTAssertEqual(Kernels.exp(-200), 0)
        XCTAssertEqual(Kernels.exp(100), .infinity)
        XCTAssertEqual(Kernels.exp(.infinity), .infinity)
        XCTAssertEqual(Kernels.exp(-.infinity), 0)
        XCTAssertTrue(Kernels.exp(.nan).isNaN)
        XCTAssertEqual(Kernels.exp(88.7), Float(Foundation.exp(Double(Float(88.7)))), accuracy: 1e32)
    }

    /// GELU′'s exp for x ≤ 0 (fused multiply-adds, 2ⁿ in one step): within a few ulp of the
    /// exact value over the whole range, including the subnormal results near its bottom.
    func testExpOfNonPositiveMatchesLibm() {
        var worst = 0.0
        var x: Float = 0
        while x > -87.3 {
            let exact = Foundation.exp(Double(x)), approx = Double(Kernels.expOfNonPositive(x))
            worst = Swift.max(worst, Swift.abs(approx - exact) / exact)
            x = x.nextDown - 0.000_97
        }
        XCTAssertLessThan(worst, 3e-7)
        // Every float where results turn subnormal (below −87.33654, where eˣ < 2⁻¹²⁶, the result is 0).
        var bits = Float(-87.33654).bitPattern, worstSubnormal = 0.0
        while Float(bitPattern: bits) < -86.9 {
            let v = Float(bitPattern: bits)
            let exact = Foundation.exp(Double(v)), approx = Double(Kernels.expOfNonPositive(v))
            worstSubnormal = Swift.max(worstSubnormal, Swift.abs(approx - exact) / Double(Float.leastNonzeroMagnitude))
            bits -= 1
        }
        XCTAssertLessThanOrEqual(worstSubnormal, 1, "subnormal results off by more than one unit of 2⁻¹⁴⁹")
        XCTAssertEqual(Kernels.expOfNonPositive(0), 1)
        XCTAssertEqual(Kernels.expOfNonPositive(-0.0), 1)
        XCTAssertEqual(Kernels.expOfNonPositive(-200), 0)
        XCTAssertEqual(Kernels.expOfNonPositive(Float(-87.33654).nextDown), 0)
        XCTAssertEqual(Kernels.expOfNonPositive(-.infinity), 0)
        XCTAssertTrue(Kernels.expOfNonPositive(.nan).isNaN)
    }

    /// erf (rational function, fused multiply-adds) against libm in double, and GELU and GELU′
    /// against the same formulas in double: the absolute error PyTorch's float32 GELU also has.
    func testErfAndGeluMatchDoublePrecision() {
        var worstErf = 0.0, worstGelu = 0.0, worstDerivative = 0.0
        var x: Float = -10
        while x < 10 {
            worstErf = Swift.max(worstErf, Swift.abs(Double(Kernels.erf(x)) - Foundation.erf(Double(x))))
            let d = Double(x), cdf = 0.5 * (1 + Foundation.erf(d / 2.0.squareRoot()))
            let pdf = Foundation.exp(-0.5 * d * d) / (2 * Double.pi).squareRoot()
            worstGelu = Swift.max(worstGelu, Swift.abs(Double(Kernels.gelu(x)) - d * cdf) / Swift.max(1, Swift.abs(d)))
            let c = Kernels.normalCDF(x)
            worstDerivative = Swift.max(worstDerivative, Swift.abs(Double(Kernels.geluDerivative(x, cdf: c)) - (cdf + d * pdf)))
            x += 0.000_731
        }
        XCTAssertLessThan(worstErf, 5e-7)
        XCTAssertLessThan(worstGelu, 5e-7)
        XCTAssertLessThan(worstDerivative, 1e-6)
        XCTAssertEqual(Kernels.erf(.infinity), 1)
        XCTAssertEqual(Kernels.erf(-.infinity), -1)
        XCTAssertTrue(Kernels.erf(.nan).isNaN)
        XCTAssertEqual(Kernels.erf(0), 0)
    }

    func testTanhAndSigmoidMatchLibm() {
        let xs: [Float] = stride(from: -20 as Float, through: 20, by: 0.0173).map { $0 } + [0, 1e-6, -1e-6, 0.624, 0.626, .nan]
        let t = Tensor(shape: [xs.count], scalars: xs).tanh().scalars
        let s = Tensor(shape: [xs.count], scalars: xs).sigmoid().scalars
        for (i, x) in xs.enumerated() {
            if x.isNaN { XCTAssertTrue(t[i].isNaN && s[i].isNaN); continue }
            let exactT = Foundation.tanh(Double(x)), exactS = 1 / (1 + Foundation.exp(-Double(x)))
            XCTAssertEqual(Double(t[i]), exactT, accuracy: 3e-7 * Swift.max(1e-30, Swift.abs(exactT)) + 1e-38, "tanh(\(x))")
            XCTAssertEqual(Double(s[i]), exactS, accuracy: 3e-7 * exactS, "sigmoid(\(x))")
        }
    }
}
