import Foundation
import NTrainCore

/// `ntrain-bench unary [N]`: each built-in unary op over N floats, forward and backward, through
/// the CPU backend (its hand-written kernel where it has one) and through the op's definition
/// alone (`genericUnary`, one closure call per element). Where the two are within the noise the
/// hand-written kernel does not pay and goes (docs/benchmarks.md, "Unary kernels").
enum UnaryBenchmark {
    static func run(count n: Int) {
        var rng = RandomGenerator(seed: 3)
        let cpu = CPUBackend()
        let x = Tensor(shape: [n], scalars: (0..<n).map { _ in rng.uniform(0.05, 3) * (rng.uniform(0, 1) < 0.5 ? -1 : 1) })
        let positive = Tensor(shape: [n], scalars: x.scalars.map { Swift.abs($0) })
        let g = Tensor(shape: [n], scalars: (0..<n).map { _ in rng.uniform(-1, 1) })
        for op in UnaryOp.builtins + [.pow(3)] {
            let input = ["log", "sqrt"].contains(op.name) ? positive : x
            let (y, saved) = cpu.unary(op, input, recording: true)
            let genericSaved = op.saves == .output ? cpu.genericUnary(op, input) : input
            let fastForward = best { _ = cpu.unary(op, input, recording: true) }
            let genericForward = best { _ = cpu.genericUnary(op, input) }
            let fastBackward = best { _ = cpu.unaryBackward(op, g, saved: saved!) }
            let genericBackward = best { _ = cpu.genericUnaryBackward(op, g, saved: genericSaved) }
            _ = y
            let perElement = { (s: Double) in s * 1e9 / Double(n) }
            print(String(format: "unary %-11@ forward %6.3f vs %6.3f ns/element (%.2fx), backward %6.3f vs %6.3f (%.2fx)",
                         op.description, perElement(fastForward), perElement(genericForward), genericForward / fastForward,
                         perElement(fastBackward), perElement(genericBackward), genericBackward / fastBackward))
            BenchResult(workload: "unary:\(op.name)", images: 0, seconds: fastForward, flopsPerImage: 0, extra: [
                "forward_ns": perElement(fastForward), "generic_forward_ns": perElement(genericForward),
                "backward_ns": perElement(fastBackward), "generic_backward_ns": perElement(genericBackward),
            ]).printed()
        }
    }

    private static func best(_ body: () -> Void) -> Double { bestTime(body) }
}
