import XCTest
@testable import NTrainCore

/// Random inputs for op tests (fixed seeds, so failures reproduce).
extension RandomGenerator {
    mutating func tensor(_ shape: Shape, _ lo: Float = -1, _ hi: Float = 1, requiresGrad: Bool = true) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in uniform(lo, hi) }, requiresGrad: requiresGrad)
    }

    /// Values with |x| in [margin, hi] (random sign): keeps inputs away from kinks at 0.
    mutating func awayFromZero(_ shape: Shape, margin: Float = 0.1, hi: Float = 1.5) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in
            let v = uniform(margin, hi)
            return bernoulli(0.5) ? v : -v
        }, requiresGrad: true)
    }

    /// A random permutation of well-separated values (no ties, gaps ≫ the check's epsilon).
    mutating func distinct(_ shape: Shape) -> Tensor {
        let perm = permutation(shape.count)
        return Tensor(shape: shape, scalars: perm.map { Float($0) * 0.1 - Float(shape.count) * 0.05 }, requiresGrad: true)
    }

    /// A shape of the given rank with sizes in 1...maxSize (odd sizes are common).
    mutating func shape(rank: Int, maxSize: Int = 5) -> Shape {
        Shape((0..<rank).map { _ in 1 + int(below: maxSize) })
    }
}

func assertGradients(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    let result = gradientCheck(inputs, epsilon: epsilon, tolerance: tolerance, f)
    XCTAssertTrue(result.passed, "\(what): \(result)", file: file, line: line)
}
