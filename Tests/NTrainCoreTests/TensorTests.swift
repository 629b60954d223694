import XCTest
@testable import NTrainCore

final class TensorTests: XCTestCase {
    /// `copy()` of a tensor large enough to be split across threads (over 512 KB) is exact and
    /// independent of its source.
    func testLargeCopyIsExactAndOwnsItsStorage() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        var rng = RandomGenerator(seed: 5)
        let values = (0..<300_007).map { _ in rng.normal() }
        let a = Tensor(shape: [values.count], scalars: values)
        let b = a.copy()
        XCTAssertEqual(b.scalars.map(\.bitPattern), values.map(\.bitPattern))
        a.data[0] += 1
        XCTAssertEqual(b.scalars[0], values[0])
    }

    func testBroadcastAddAndBackward() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6], requiresGrad: true)
        let b = Tensor(shape: [3], scalars: [10, 20, 30], requiresGrad: true)
        let y = (a + b) * a
        XCTAssertEqual(y.scalars, [11, 44, 99, 56, 125, 216])
        y.sum().backward()
        // d/da (a+b)a = 2a + b ; d/db = a summed over rows
        XCTAssertEqual(a.grad?.scalars, [12, 24, 36, 18, 30, 42])
        XCTAssertEqual(b.grad?.scalars, [5, 7, 9])
    }

    func testGradientCheckOfDivision() {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor(shape: [3, 4], scalars: (0..<12).map { _ in rng.uniform(-1, 1) }, requiresGrad: true)
        let b = Tensor(shape: [4], scalars: (0..<4).map { _ in rng.uniform(1, 2) }, requiresGrad: true)
        let r = gradientCheck([a, b]) { x in x[0] / x[1] - x[0] * 0.5 }
        XCTAssertTrue(r.passed, r.description)
    }

    func testDeviceParsing() throws {
        XCTAssertEqual(try DeviceSpec(parsing: "cpux"), DeviceSpec(kind: .cpu, index: nil))
        XCTAssertEqual(try DeviceSpec(parsing: "gpu1"), DeviceSpec(kind: .gpu, index: 1))
        XCTAssertThrowsError(try DeviceSpec(parsing: "tpu0"))
        XCTAssertThrowsError(try DeviceSpec(parsing: "gpu"))
        XCTAssertEqual(try DeviceSpec(parsing: "xpux").resolve(cuda: .unavailable("none")), .cpu)
        XCTAssertThrowsError(try DeviceSpec(parsing: "gpux").resolve(cuda: .unavailable("none")))
    }
}
