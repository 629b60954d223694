import Foundation
import NTrainCUDAEmulator
import XCTest
@testable import NTrainCore

/// Base for tests of tensor ops on a GPU tensor (`.gpu(0)`): forward and backward through
/// autograd, against the same ops on the CPU. Runs on the CUDA host emulator (and on a real GPU
/// when NTRAIN_GPU_TENSOR_TESTS=real, from scripts/gpu_check.sh). Each test ends with
/// the device's sync point (`CUDARuntime.synchronize`), so a GPU op that failed fails the test.
class GPUTestCase: XCTestCase {
    static let gpu = Device.gpu(0)

    override func setUpWithError() throws {
        do { try CUDAHostEmulator.installForTensors() } catch { throw XCTSkip("no GPU and no CUDA host emulator: \(error)") }
    }

    override func tearDownWithError() throws {
        defer { CUDAHostEmulator.uninstallForTensors() }
        try CUDARuntime.synchronize(Self.gpu)
    }

    var rng = RandomGenerator(seed: 11)

    func random(_ shape: Shape, _ lo: Float = -2, _ hi: Float = 2) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(lo, hi) })
    }

    func assertClose(_ got: Tensor?, _ want: Tensor?, rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        guard let got, let want else { return XCTFail("\(what): missing tensor", file: file, line: line) }
        XCTAssertEqual(got.shape, want.shape, what, file: file, line: line)
        let g = got.scalars, w = want.scalars
        for i in 0..<min(g.count, w.count) where !((g[i].isNaN && w[i].isNaN) || abs(g[i] - w[i]) <= atol + rtol * abs(w[i])) {
            return XCTFail("\(what): element \(i) of \(w.count): GPU \(g[i]) vs CPU \(w[i])", file: file, line: line)
        }
    }

    /// Runs `op` on CPU leaves and on GPU copies of them, back-propagates the same random
    /// upstream gradient, and compares outputs and every input's gradient.
    func check(_ what: String, _ inputs: [Tensor], rtol: Float = 1e-5, atol: Float = 1e-6,
               file: StaticString = #filePath, line: UInt = #line, _ op: ([Tensor]) -> Tensor) {
        let cpu = inputs.map { t -> Tensor in let c = t.copy(); c.requiresGrad = true; return c }
        let gpu = inputs.map { t -> Tensor in let c = t.to(Self.gpu); c.requiresGrad = true; return c }
        let y = op(cpu), yg = op(gpu)
        XCTAssertEqual(yg.device, Self.gpu, what, file: file, line: line)
        let w = random(y.shape)
        (y * w).sum().backward()
        (yg * w.to(Self.gpu)).sum().backward()
        assertClose(yg, y, rtol: rtol, atol: atol, "\(what) forward", file: file, line: line)
        for i in cpu.indices {
            XCTAssertEqual(gpu[i].grad?.device, Self.gpu, "\(what) grad \(i) device", file: file, line: line)
            assertClose(gpu[i].grad, cpu[i].grad, rtol: rtol * 10, atol: atol * 10, "\(what) grad \(i)", file: file, line: line)
        }
    }
}
