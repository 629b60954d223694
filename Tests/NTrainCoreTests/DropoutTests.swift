import XCTest
@testable import NTrainCore

final class DropoutTests: XCTestCase {
    func testTrainingZeroesAboutPAndScalesTheRest() {
        var rng = RandomGenerator(seed: 41)
        let n = 100_000
        let x = Tensor(shape: [100, 1000], scalars: (0..<n).map { _ in rng.uniform(0.5, 1.5) })
        var gen = RandomGenerator(seed: 42)
        let y = x.dropout(p: 0.2, training: true, generator: &gen)
        let xs = x.scalars, ys = y.scalars
        var zeros = 0
        for i in 0..<n {
            if ys[i] == 0 { zeros += 1 } else { XCTAssertEqual(ys[i], xs[i] * 1.25, accuracy: 1e-6) }
        }
        // Binomial(1e5, 0.2): standard deviation ≈ 126; allow ~5σ.
        XCTAssertEqual(Double(zeros) / Double(n), 0.2, accuracy: 0.0065)
    }

    func testEvalIsIdentityAndDrawsNothing() {
        let x = Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0) })
        var gen = RandomGenerator(seed: 43)
        let before = gen
        XCTAssertEqual(x.dropout(p: 0.5, training: false, generator: &gen).scalars, x.scalars)
        XCTAssertEqual(gen, before)
        XCTAssertEqual(x.dropout(p: 0, training: true, generator: &gen).scalars, x.scalars)
    }

    func testSameSeedSameMaskAndGeneratorAdvances() {
        let x = Tensor.ones([64, 33])
        var a = RandomGenerator(seed: 44), b = RandomGenerator(seed: 44)
        let ya = x.dropout(p: 0.3, training: true, generator: &a)
        XCTAssertEqual(ya.scalars, x.dropout(p: 0.3, training: true, generator: &b).scalars)
        // A second call draws a fresh mask.
        XCTAssertNotEqual(x.dropout(p: 0.3, training: true, generator: &a).scalars, ya.scalars)
    }

    func testGradientIsTheMask() {
        var rng = RandomGenerator(seed: 45)
        let x = Tensor(shape: [5, 7], scalars: (0..<35).map { _ in rng.uniform(-1, 1) }, requiresGrad: true)
        var gen = RandomGenerator(seed: 46)
        let y = x.dropout(p: 0.4, training: true, generator: &gen)
        y.sum().backward()
        let ys = y.scalars, xs = x.scalars
        for (i, g) in x.grad!.scalars.enumerated() {
            XCTAssertEqual(g, ys[i] == 0 ? 0 : 1 / 0.6, accuracy: 1e-6, "element \(i) (x \(xs[i]))")
        }
        // Finite differences with the same mask: replay the generator for every evaluation.
        let r = gradientCheck([x]) { t in
            var replay = RandomGenerator(seed: 46)
            return t[0].dropout(p: 0.4, training: true, generator: &replay)
        }
        XCTAssertTrue(r.passed, r.description)
    }

    func testProbabilityOneZeroesEverything() {
        var gen = RandomGenerator(seed: 47)
        XCTAssertEqual(Tensor.ones([10]).dropout(p: 1, training: true, generator: &gen).scalars, [Float](repeating: 0, count: 10))
    }
}
