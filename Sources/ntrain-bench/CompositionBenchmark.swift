import Foundation
import NTrainCore

/// `ntrain-bench composition`: hand-written primitives against the same op composed from others,
/// on a [64, 64, 16, 16] activation (milliseconds, best of 15). A primitive stays only where it
/// pays (docs/benchmarks.md, "Unary kernels and composed ops"); mean is composed (sum / n).
enum CompositionBenchmark {
    /// Milliseconds, the best of 15.
    private static func best(_ body: () -> Void) -> Double { bestTime(body) * 1e3 }

    static func run() {
        var rng = RandomGenerator(seed: 3)
        let shape: Shape = [64, 64, 16, 16]
        let x = Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(-2, 2) }, requiresGrad: true)
        let b = Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(-2, 2) })
        let axes = [0, 2, 3]
        func composedVar(_ t: Tensor) -> Tensor {
            let n = Float(axes.reduce(1) { $0 * t.shape[$1] })
            let d = t - t.sum(axes: axes, keepDims: true) / Tensor(n)
            return (d * d).sum(axes: axes) / Tensor(n)
        }
        let prim = best { x.grad = nil; x.variance(axes: axes).sum().backward() }
        let comp = best { x.grad = nil; composedVar(x).sum().backward() }
        let primF = best { _ = noGrad { x.variance(axes: axes) } }
        let compF = best { _ = noGrad { composedVar(x) } }
        print(String(format: "variance [64,64,16,16] over 0,2,3: fwd %.2f vs composed %.2f ms; fwd+bwd %.2f vs %.2f ms", primF, compF, prim, comp))
        let subP = best { _ = noGrad { x - b } }
        let subC = best { _ = noGrad { x + b * -1 } }
        print(String(format: "sub: %.2f vs composed a + b*(-1) %.2f ms", subP, subC))
        let tanhP = best { _ = noGrad { x.tanh() } }
        let tanhC = best { _ = noGrad { (x * 2).sigmoid() * 2 - 1 } }
        print(String(format: "tanh: %.2f vs composed 2*sigmoid(2x)-1 %.2f ms", tanhP, tanhC))
        let lrP = best { _ = noGrad { x.leakyRelu(slope: 0.1) } }
        let lrC = best { _ = noGrad { x.relu() - (x * -1).relu() * 0.1 } }
        print(String(format: "leaky_relu: %.2f vs composed relu(x) - 0.1*relu(-x) %.2f ms", lrP, lrC))
        let absP = best { _ = noGrad { x.abs() } }
        let absC = best { _ = noGrad { x.relu() + (x * -1).relu() } }
        print(String(format: "abs: %.2f vs composed relu(x) + relu(-x) %.2f ms", absP, absC))
        let clP = best { _ = noGrad { x.clamp(min: -1, max: 1) } }
        let clC = best { _ = noGrad { ((x + 1).relu() - 2) * -1 } }
        print(String(format: "clamp: %.2f vs composed (one side) %.2f ms", clP, clC))
    }
}
