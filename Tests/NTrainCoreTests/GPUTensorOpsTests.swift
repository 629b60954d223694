import Foundation
import NTrainCUDAEmulator
import XCTest
@testable import NTrainCore

/// Elementwise, unary, reduction, matmul and linear ops on a GPU against the CPU (see `GPUTestCase`).
final class GPUTensorOpsTests: GPUTestCase {
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

    func testSoftmaxAndAxisReductions() {
        let x = random([3, 7, 5])
        for axis in [0, 1, 2] {
            check("softmax axis \(axis)", [x]) { $0[0].softmax(axis: axis) }
            check("log softmax axis \(axis)", [x]) { $0[0].logSoftmax(axis: axis) }
            check("sum axis \(axis)", [x]) { $0[0].sum(axes: [axis]) }
            check("mean axis \(axis) keeping it", [x]) { $0[0].mean(axes: [axis], keepDims: true) }
        }
        check("sum over two axes", [x]) { $0[0].sum(axes: [0, 2]) }
    }

    func testShapeAndIndexOps() throws {
        let x = random([2, 3, 4])
        check("permute", [x]) { $0[0].permuted([2, 0, 1]) }
        check("transpose", [random([5, 3])]) { $0[0].transposed() }
        check("pad", [x]) { $0[0].padded([(0, 1), (2, 0), (1, 1)], value: 0.5) }
        check("concat", [x, random([2, 1, 4]), random([2, 2, 4])]) { Tensor.concat($0, axis: 1) }
        check("flip last axis", [x]) { $0[0].flipped(axis: -1) }
        check("flip axis 1", [x]) { $0[0].flipped(axis: 1) }
        check("max axis 1", [x]) { $0[0].max(axis: 1) }
        check("max axis 2 keeping it", [x]) { $0[0].max(axis: 2, keepDims: true) }
        check("variance", [x]) { $0[0].variance(axes: [0, 2], unbiased: true) }
        let labels = Tensor(shape: [4], int32s: [2, 0, 4, 1])
        check("gathered", [random([4, 5])]) { $0[0].gathered(classIndices: labels) }
        XCTAssertEqual(x.to(Self.gpu).argmax(axis: 1).to(.cpu).scalars, x.argmax(axis: 1).scalars)
        XCTAssertEqual(labels.to(Self.gpu).oneHot(classes: 5).scalars, labels.oneHot(classes: 5).scalars)
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

    func testAllFiniteFindsAnyInfOrNaN() {
        let finite = [random([5, 3]), random([7])].map { $0.to(Self.gpu) }
        XCTAssertTrue(CUDAOps.allFinite(finite))
        for bad in [Float.infinity, -.infinity, .nan] {
            let t = random([4, 4])
            t.data[9] = bad
            XCTAssertFalse(CUDAOps.allFinite(finite + [t.to(Self.gpu)]), "\(bad)")
        }
    }

    /// A GPU op with no kernel yet is reported at the device's sync point (typed, with the fix), not
    /// a crash, and later ops on that device are skipped until it is thrown.
    func testUnsupportedOpIsReportedAtTheSyncPoint() throws {
        let x = random([2, 3, 4]).to(Self.gpu)
        let launches = try CUDAHostEmulator.launchCount()
        _ = x.matmul(random([2, 4, 5]).to(Self.gpu))
        XCTAssertNotNil(CUDARuntime.pendingFailure(Self.gpu))
        _ = x.relu()
        XCTAssertEqual(try CUDAHostEmulator.launchCount(), launches, "ops after an error are skipped")
        XCTAssertThrowsError(try CUDARuntime.synchronize(Self.gpu)) { error in
            XCTAssertEqual(error as? CUDAUnsupportedOp, CUDAUnsupportedOp(op: "batched matmul [2, 3, 4]·[2, 4, 5]", device: Self.gpu))
            XCTAssertTrue("\(error)".contains("--device cpux"), "\(error)")
        }
        XCTAssertNil(CUDARuntime.pendingFailure(Self.gpu))
        _ = x.relu()
        XCTAssertGreaterThan(try CUDAHostEmulator.launchCount(), launches, "ops run again after the sync point")
    }

    /// A failed launch is thrown by the backend's sync point with the kernel that failed: the
    /// emulator refuses a launch with a missing parameter, as a GPU does.
    func testFailedLaunchNamesItsKernelAtTheSyncPoint() throws {
        let x = random([8]).to(Self.gpu)
        CUDAOps.launch(Self.gpu, "relu_f32", elements: 8, CUDAKernelArguments().pointer(CUDAOps.address(x)).int64(8))
        XCTAssertThrowsError(try Self.gpu.backend.synchronize(Self.gpu)) { error in
            guard let error = error as? BackendError, case let .failed(device, op, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(device, Self.gpu)
            XCTAssertEqual(op, "relu_f32")
            XCTAssertTrue(error.description.hasPrefix("relu_f32 failed on gpu0: "), error.description)
        }
        XCTAssertNil(CUDARuntime.pendingFailure(Self.gpu))
    }
}
