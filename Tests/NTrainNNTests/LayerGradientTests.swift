import XCTest
import NTrainCore
@testable import NTrainNN

/// Finite-difference checks of every layer's input and parameter gradients, on odd sizes.
final class LayerGradientTests: XCTestCase {
    private func random(_ shape: Shape, _ g: inout RandomGenerator, _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in g.uniform(lo, hi) }, requiresGrad: true)
    }

    private func check(_ module: Module, input: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        let result = gradientCheck([input] + module.parameters, epsilon: 1e-2, tolerance: 2e-2) { _ in module(input) }
        XCTAssertTrue(result.passed, "\(module.summary): \(result)", file: file, line: line)
    }

    func testLinear() {
        var g = RandomGenerator(seed: 11)
        check(Linear(7, 5, generator: &g), input: random([3, 7], &g))
    }

    func testConv2dWithStridePaddingDilationGroups() throws {
        var g = RandomGenerator(seed: 12)
        let conv = try Conv2d(4, 6, kernel: (3, 2), stride: (2, 1), padding: (1, 1), dilation: (2, 1), groups: 2, generator: &g)
        check(conv, input: random([2, 4, 7, 5], &g))
    }

    func testPools() throws {
        var g = RandomGenerator(seed: 13)
        // Distinct values avoid ties, where max-pool is not differentiable.
        let values = g.permutation(2 * 3 * 7 * 6).map { Float($0) / 50 }
        let x = Tensor(shape: [2, 3, 7, 6], scalars: values, requiresGrad: true)
        check(try Pool2d(.max, kernel: (3, 2), stride: (2, 2), padding: (1, 0)), input: x)
        check(try Pool2d(.average, kernel: (3, 3), stride: (2, 1), padding: (1, 1)), input: random([2, 3, 7, 6], &g))
    }

    func testBatchNormTrainingAndEval() {
        var g = RandomGenerator(seed: 14)
        let bn = BatchNorm(features: 3, spatial: true)
        bn.weight!.assign(random([3], &g, 0.5, 1.5))
        bn.bias!.assign(random([3], &g))
        check(bn, input: random([4, 3, 3, 5], &g))
        bn.eval()
        check(bn, input: random([4, 3, 3, 5], &g))
        let bn1 = BatchNorm(features: 5, spatial: false)
        check(bn1, input: random([6, 5], &g))
    }

    func testActivationsAndFlatten() {
        var g = RandomGenerator(seed: 15)
        for kind: Activation.Kind in [.leakyRelu(slope: 0.1), .gelu, .sigmoid, .tanh, .softmax(axis: 1), .logSoftmax(axis: -1)] {
            check(Activation(kind), input: random([3, 5], &g))
        }
        // ReLU away from its kink at 0.
        let x = Tensor(shape: [2, 5], scalars: (0..<10).map { _ in (g.bernoulli(0.5) ? 1 : -1) * g.uniform(0.1, 1) }, requiresGrad: true)
        check(Activation(.relu), input: x)
        check(Flatten(), input: random([2, 3, 2, 2], &g))
    }

    func testLosses() {
        var g = RandomGenerator(seed: 16)
        let logits = random([5, 7], &g)
        let targets = Tensor(shape: [5], int32s: (0..<5).map { _ in Int32(g.int(below: 7)) })
        for eps: Float in [0, 0.2] {
            let r = gradientCheck([logits]) { x in crossEntropy(x[0], targets, labelSmoothing: eps) }
            XCTAssertTrue(r.passed, "cross_entropy(\(eps)): \(r)")
        }
        XCTAssertTrue(gradientCheck([logits]) { x in nllLoss(x[0].logSoftmax(axis: 1), targets) }.passed)
        let p = random([4, 3], &g), t = random([4, 3], &g)
        t.requiresGrad = false
        for (name, loss) in [("mse", Loss.mse), ("l1", .l1), ("smooth_l1", .smoothL1(beta: 0.7)), ("bce_logits", .binaryCrossEntropyWithLogits)] {
            let target = name == "bce_logits" ? Tensor(shape: [4, 3], scalars: (0..<12).map { _ in Float(g.int(below: 2)) }) : t
            let r = gradientCheck([p], epsilon: 1e-3) { x in loss(x[0], target) }
            XCTAssertTrue(r.passed, "\(name): \(r)")
        }
        let probs = random([4, 3], &g, 0.1, 0.9)
        let bt = Tensor(shape: [4, 3], scalars: (0..<12).map { _ in Float(g.int(below: 2)) })
        XCTAssertTrue(gradientCheck([probs], epsilon: 1e-3) { x in binaryCrossEntropy(x[0], bt) }.passed)
    }

    func testCustomDifferentiableFunctionGELU() {
        // The course lab's hand-written GELU (tanh approximation) as a user-defined op.
        struct TanhGELU: DifferentiableFunction {
            func forward(_ x: [Tensor]) -> Tensor {
                let k: Float = (2 / Float.pi).squareRoot()
                return Kernels.unary(x[0]) { v in 0.5 * v * (1 + Foundation.tanh(k * (v + 0.044715 * v * v * v))) }
            }
            func backward(_ x: [Tensor], output: Tensor, gradient g: Tensor) -> [Tensor?] {
                let k: Float = (2 / Float.pi).squareRoot()
                let d = Kernels.unary(x[0]) { v in
                    let u = k * (v + 0.044715 * v * v * v)
                    let th = Foundation.tanh(u)
                    return 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * k * (1 + 3 * 0.044715 * v * v)
                }
                return [Kernels.mul(g, d)]
            }
        }
        var g = RandomGenerator(seed: 17)
        let x = random([4, 6], &g, -3, 3)
        let r = gradientCheck([x], epsilon: 1e-3) { xs in Tensor.apply(TanhGELU(), to: xs) }
        XCTAssertTrue(r.passed, r.description)
        // Close to the exact erf GELU.
        let exact = x.gelu().scalars, approx = Tensor.apply(TanhGELU(), to: [x]).scalars
        for (a, b) in zip(exact, approx) { XCTAssertEqual(a, b, accuracy: 1e-3) }
    }
}
import Foundation
