import Foundation
import XCTest
@testable import NTrainCore

/// Convolution, pooling, batch norm, dropout and the fused CPU ops' GPU paths against the CPU
/// (see `GPUTestCase`).
final class GPUConvOpsTests: GPUTestCase {
    func testConvolution() {
        check("conv2d", [random([2, 3, 9, 8]), random([4, 3, 3, 2]), random([4])], rtol: 1e-4, atol: 1e-5) {
            $0[0].conv2d(weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 1), dilation: (1, 2))
        }
        check("conv2d without bias", [random([3, 1, 6, 6]), random([2, 1, 5, 5])], rtol: 1e-4, atol: 1e-5) {
            $0[0].conv2d(weight: $0[1])
        }
    }

    func testPoolingAndFusedOps() {
        let x = random([2, 3, 8, 8])
        check("max pool", [x]) { $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        check("avg pool", [x]) { $0[0].avgPool2d(kernel: (2, 2)) }
        check("relu max pool", [x]) { $0[0].reluMaxPool2d(kernel: (2, 2)) }
        check("conv relu max pool", [x, random([4, 3, 3, 3]), random([4])], rtol: 1e-4, atol: 1e-5) {
            $0[0].conv2dReluMaxPool(weight: $0[1], bias: $0[2], padding: (1, 1), poolKernel: (2, 2))
        }
        check("conv gelu avg pool", [x, random([4, 3, 3, 3]), random([4])], rtol: 1e-4, atol: 1e-5) {
            $0[0].conv2dGeluAvgPool(weight: $0[1], bias: $0[2], poolKernel: (2, 2))
        }
    }

    func testBatchNormTrainingAndEval() {
        for training in [true, false] {
            let mean = random([3], -0.5, 0.5), variance = random([3], 0.5, 2)
            let cpuMean = mean.copy(), cpuVar = variance.copy()
            let gpuMean = mean.to(Self.gpu), gpuVar = variance.to(Self.gpu)
            check("batch norm training \(training)", [random([4, 3, 5, 6]), random([3], 0.5, 1.5), random([3])],
                  rtol: 1e-4, atol: 1e-5) { t in
                let onGPU = t[0].device != .cpu
                return t[0].batchNorm(runningMean: onGPU ? gpuMean : cpuMean, runningVar: onGPU ? gpuVar : cpuVar,
                                      weight: t[1], bias: t[2], training: training)
            }
            assertClose(gpuMean, cpuMean, "running mean, training \(training)")
            assertClose(gpuVar, cpuVar, "running variance, training \(training)")
        }
    }

    /// The GPU mask comes from the same generator draws as the CPU's.
    func testDropoutUsesTheSameMask() {
        let x = random([6, 10])
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        check("dropout", [x]) { t in
            t[0].device == .cpu ? t[0].dropout(p: 0.3, training: true, generator: &a) : t[0].dropout(p: 0.3, training: true, generator: &b)
        }
    }

    func testGroupedConvolution() {
        check("conv2d groups 2", [random([2, 4, 7, 6]), random([6, 2, 3, 3]), random([6])], rtol: 1e-4, atol: 1e-5) {
            $0[0].conv2d(weight: $0[1], bias: $0[2], padding: (1, 0), groups: 2)
        }
        check("depthwise conv2d", [random([2, 3, 5, 5]), random([3, 1, 3, 3])], rtol: 1e-4, atol: 1e-5) {
            $0[0].conv2d(weight: $0[1], stride: (2, 2), groups: 3)
        }
    }
}
