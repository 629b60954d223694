import Foundation
import NTrainCore

/// `ntrain-bench conv [BATCH]`: the 3x3, padding-1 convolutions of configs/cifar10-resnet.json
/// (input channels, output channels, size): inference (no columns kept), the training forward
/// pass (with the columns training keeps for the backward pass), then the input and weight gradients, each the best of 3 after one untimed run, in GFLOP/s.
enum ConvBenchmark {
    static let recipe: [(c: Int, o: Int, size: Int)] = [(24, 64, 31), (64, 64, 15), (64, 256, 15), (256, 256, 7), (256, 256, 3)]

    static func run(batch n: Int) throws {
        var rng = RandomGenerator(seed: 3)
        var total = (inference: 0.0, forward: 0.0, backward: 0.0)
        for (c, o, size) in recipe {
            let x = Tensor(shape: [n, c, size, size], scalars: (0..<(n * c * size * size)).map { _ in rng.uniform(-1, 1) })
            let w = Tensor(shape: [o, c, 3, 3], scalars: (0..<(o * c * 9)).map { _ in rng.uniform(-0.1, 0.1) })
            let g = try Conv2dGeometry(input: x.shape, weight: w.shape, padding: (1, 1))
            let dy = Tensor(shape: g.outputShape, scalars: (0..<g.outputShape.count).map { _ in rng.uniform(-1, 1) })
            // What training keeps for the weight gradient (CPUBackend.conv2d): the columns, or
            // none for a Winograd convolution.
            let columns = Kernels.usesWinograd(g) ? nil : Tensor(uninitialized: [n, g.columnFloatsPerImage])
            let inference = best { _ = Kernels.conv2d(x, weight: w, bias: nil, geometry: g) }
            let forward = best { _ = Kernels.conv2d(x, weight: w, bias: nil, geometry: g, columns: columns?.data) }
            let backward = best {
                _ = Kernels.conv2dBackward(dy, input: x, weight: w, geometry: g, inputGrad: true, weightGrad: true, biasGrad: false,
                                           columns: columns.map { UnsafePointer<Float>($0.data) })
            }
            let flops = 2.0 * Double(n * o * size * size * c * 9)
            total.forward += forward
            total.backward += backward
            total.inference += inference
            print(String(format: "conv %3d -> %3d at %2dx%-2d batch %d: inference %6.1f ms, forward %6.1f ms (%5.1f GFLOP/s), backward %6.1f ms (%5.1f GFLOP/s)",
                         c, o, size, size, n, inference * 1e3, forward * 1e3, flops / forward * 1e-9, backward * 1e3, 2 * flops / backward * 1e-9))
        }
        print(String(format: "conv total: inference %.1f ms, forward %.1f ms, backward %.1f ms", total.inference * 1e3, total.forward * 1e3, total.backward * 1e3))
        BenchResult(workload: "conv", images: n, seconds: total.forward + total.backward, flopsPerImage: 0,
                    extra: ["inference_ms": total.inference * 1e3, "forward_ms": total.forward * 1e3, "backward_ms": total.backward * 1e3]).printed()
    }

    private static func best(_ body: () -> Void) -> Double { bestTime(of: 3, body) }
}
