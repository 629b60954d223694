import Foundation
import NTrainCUDAEmulator
import XCTest
@testable import NTrainCore

/// Tensor ops on a GPU tensor (`.gpu(0)`), forward and backward through autograd, against the
/// same ops on the CPU. Runs on the CUDA host emulator (and on a real GPU when
/// NTRAIN_GPU_TENSOR_TESTS=real, from scripts/gpu_check.sh).
final class GPUTensorOpsTests: XCTestCase {
    static let gpu = Device.gpu(0)
    private static let ready: Result<Void, Error> = Result {
        if ProcessInfo.processInfo.environment["NTRAIN_GPU_TENSOR_TESTS"] != "real" {
            try CUDAHostEmulator.configure()
            CUDARuntime.use(driver: try CUDAHostEmulator.driver())
        }
        _ = try CUDARuntime.context(0)
    }

    override func setUpWithError() throws {
        do { try Self.ready.get() } catch { throw XCTSkip("no GPU and no CUDA host emulator: \(error)") }
    }

    override func tearDownWithError() throws {
        try CUDARuntime.check()  // no GPU op failed
    }

    private var rng = RandomGenerator(seed: 11)

    private func random(_ shape: Shape, _ lo: Float = -2, _ hi: Float = 2) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(lo, hi) })
    }

    private func assertClose(_ got: Tensor?, _ want: Tensor?, rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        guard let got, let want else { return XCTFail("\(what): missing tensor", file: file, line: line) }
        XCTAssertEqual(got.shape, want.shape, what, file: file, line: line)
        XCTAssertEqual(got.device, want.device == .cpu ? got.device : want.device)
        let g = got.scalars, w = want.scalars
        for i in 0..<min(g.count, w.count) where !((g[i].isNaN && w[i].isNaN) || abs(g[i] - w[i]) <= atol + rtol * abs(w[i])) {
            return XCTFail("\(what): element \(i) of \(w.count): GPU \(g[i]) vs CPU \(w[i])", file: file, line: line)
        }
    }

    /// Runs `op` on CPU leaves and on GPU copies of them, back-propagates the same random
    /// upstream gradient, and compares outputs and every input's gradient.
    private func check(_ what: String, _ inputs: [Tensor], rtol: Float = 1e-5, atol: Float = 1e-6,
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

    func testTransfersRoundTripAndKeepDtype() throws {
        let x = random([3, 5])
        let g = x.to(Self.gpu)
        XCTAssertEqual(g.device, Self.gpu)
        XCTAssertEqual(g.storage.device, Self.gpu)
        XCTAssertEqual(g.to(.cpu).scalars, x.scalars)
        XCTAssertEqual(g.scalars, x.scalars)
        XCTAssertEqual(g.copy().scalars, x.scalars)
        XCTAssertEqual(g.reshaped([15]).device, Self.gpu)
        let labels = Tensor(shape: [4], int32s: [3, 0, 2, 1])
        XCTAssertEqual(labels.to(Self.gpu).to(.cpu).int32Data[0], 3)
        XCTAssertEqual(Tensor.zeros([4], device: Self.gpu).scalars, [0, 0, 0, 0])
        XCTAssertEqual(Tensor.full([2], -1.5, device: Self.gpu).scalars, [-1.5, -1.5])
        let host = Tensor.zeros([3, 5])
        host.assign(g)
        XCTAssertEqual(host.scalars, x.scalars)
        let other = Tensor.zeros([3, 5], device: Self.gpu)
        other.assign(x)
        XCTAssertEqual(other.scalars, x.scalars)
        other.zero()
        XCTAssertEqual(Set(other.scalars), [0])
    }

    func testArithmeticWithBroadcasting() {
        check("add", [random([4, 3]), random([3])]) { $0[0] + $0[1] }
        check("sub", [random([2, 1, 5]), random([3, 1])]) { $0[0] - $0[1] }
        check("mul", [random([4, 3]), random([4, 1])]) { $0[0] * $0[1] }
        check("div", [random([4, 3]), random([3], 0.5, 2)]) { $0[0] / $0[1] }
        check("scalar ops", [random([7])]) { ($0[0] * 3 + 1) / 2 - 0.25 }
        check("sum and mean", [random([5, 6])]) { $0[0].sum() * $0[0].mean() }
    }

    func testActivationsAndUnaryMaths() {
        let x = random([6, 7])
        check("relu", [x]) { $0[0].relu() }
        check("leaky relu", [x]) { $0[0].leakyRelu(slope: 0.1) }
        check("gelu", [x], rtol: 1e-5, atol: 1e-5) { $0[0].gelu() }
        check("sigmoid", [x]) { $0[0].sigmoid() }
        check("tanh", [x]) { $0[0].tanh() }
        check("exp", [x]) { $0[0].exp() }
        check("abs", [x]) { $0[0].abs() }
        check("clamp", [x]) { $0[0].clamp(min: -0.5, max: 1) }
        check("pow", [x]) { $0[0].pow(2) }
        let positive = random([6, 7], 0.1, 3)
        check("log", [positive]) { $0[0].log() }
        check("sqrt", [positive]) { $0[0].sqrt() }
        check("pow 1.5", [positive], rtol: 1e-5, atol: 1e-5) { $0[0].pow(1.5) }
    }

    func testMatmulAndLinear() {
        check("matmul", [random([9, 17]), random([17, 5])], rtol: 1e-5, atol: 1e-5) { $0[0].matmul($0[1]) }
        check("matmul 3-D · 2-D", [random([2, 3, 4]), random([4, 6])], rtol: 1e-5, atol: 1e-5) { $0[0].matmul($0[1]) }
        check("linear", [random([8, 20]), random([7, 20]), random([7])], rtol: 1e-5, atol: 1e-5) {
            Tensor.linear($0[0], weight: $0[1], bias: $0[2])
        }
        check("linear without bias", [random([3, 4]), random([2, 4])], rtol: 1e-5, atol: 1e-5) {
            Tensor.linear($0[0], weight: $0[1], bias: nil)
        }
    }

    /// A GPU op with no kernel yet is reported by `check()` (typed, with the fix), not a crash,
    /// and later ops are skipped until the error is taken.
    func testUnsupportedOpIsReportedByCheck() throws {
        let x = random([2, 3, 4]).to(Self.gpu)
        let launches = try CUDAHostEmulator.launchCount()
        _ = x.matmul(random([2, 4, 5]).to(Self.gpu))
        XCTAssertTrue(CUDARuntime.hasError)
        _ = x.relu()
        XCTAssertEqual(try CUDAHostEmulator.launchCount(), launches, "ops after an error are skipped")
        XCTAssertThrowsError(try CUDARuntime.check()) { error in
            XCTAssertEqual(error as? CUDAUnsupportedOp, CUDAUnsupportedOp(op: "batched matmul [2, 3, 4]·[2, 4, 5]", device: Self.gpu))
            XCTAssertTrue("\(error)".contains("--device cpux"), "\(error)")
        }
        XCTAssertFalse(CUDARuntime.hasError)
    }
}
