import Foundation
import NTrainCUDAEmulator
import XCTest
@testable import NTrainCore

/// The CUDA host emulator itself: that it runs the real kernels, that `__syncthreads` is a barrier,
/// and that it refuses or reports what a GPU would (bad launches, unknown entry points, copies out
/// of range, kernel accesses past an allocation). Skips where NVRTC or a C++ compiler is missing.
final class CUDAHostEmulatorTests: XCTestCase {
    private static let context: Result<CUDAContext, Error> = Result {
        try CUDAHostEmulator.configure()
        return try CUDAContext(device: 0, driver: try CUDAHostEmulator.driver())
    }

    private func emulator() throws -> CUDAContext {
        do {
            return try Self.context.get()
        } catch {
            throw XCTSkip("CUDA host emulator unavailable: \(error)")
        }
    }

    private func assertDriverError(_ name: String, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case .driverError(_, _, let got)? = error as? CUDAError else {
                return XCTFail("expected \(name), got \(error)", file: file, line: line)
            }
            XCTAssertEqual(got, name, file: file, line: line)
        }
    }

    func testDeviceIsListedAndKernelsRun() throws {
        let ctx = try emulator()
        XCTAssertEqual(ctx.info.name, "ntrain CUDA host emulator 0")
        XCTAssertEqual(ctx.info.virtualArchitecture, "compute_90")
        let before = try CUDAHostEmulator.launchCount()
        let out = try ctx.zeros(1000)
        try ctx.launch("fill_f32", elements: 1000, arguments: CUDAKernelArguments().buffer(out).int64(1000).float(2.5))
        let x = Tensor(shape: [1000], scalars: (0..<1000).map { Float($0) })
        let dx = try ctx.upload(x)
        try ctx.launch("accumulate_f32", elements: 1000, arguments: CUDAKernelArguments().buffer(out).buffer(dx).int64(1000))
        XCTAssertEqual(try ctx.download(out, shape: [1000]).scalars, (0..<1000).map { Float($0) + 2.5 })
        XCTAssertEqual(try CUDAHostEmulator.launchCount(), before + 2)
    }

    func testFreshAllocationsReadAsNaN() throws {
        let ctx = try emulator()
        let p = try ctx.driver.allocate(byteCount: 64, device: 0)
        defer { try? ctx.driver.free(p) }
        var host = [Float](repeating: 0, count: 16)
        try host.withUnsafeMutableBytes { try ctx.driver.copy(from: p, to: $0.baseAddress!, byteCount: 64) }
        XCTAssertTrue(host.allSatisfy { $0.isNaN })
    }

    /// `sum_rows_f32` reduces over a block through shared memory; without a real barrier between
    /// the tree's levels its sums would be wrong.
    func testSyncthreadsIsABarrier() throws {
        let ctx = try emulator()
        let x = Tensor(shape: [3, 700], scalars: (0..<2100).map { Float($0 % 7) - 3 })
        let dx = try ctx.upload(x), sums = try ctx.zeros(3)
        try ctx.launch("sum_rows_f32", rows: 3, arguments: CUDAKernelArguments().buffer(dx).buffer(sums).int64(3).int64(700))
        XCTAssertEqual(try ctx.download(sums, shape: [3]).scalars, Kernels.sum(x, axes: [1]).scalars)
    }

    func testBadLaunchesAreRefused() throws {
        let ctx = try emulator()
        let out = try ctx.zeros(16)
        let args = CUDAKernelArguments().buffer(out).int64(16).float(1)
        assertDriverError("CUDA_ERROR_INVALID_VALUE") {
            try ctx.launch("fill_f32", grid: (1, 1, 1), block: (2048, 1, 1), arguments: args)
        }
        assertDriverError("CUDA_ERROR_INVALID_VALUE") {
            try ctx.launch("fill_f32", grid: (1, 70000, 1), block: (32, 1, 1), arguments: args)
        }
        // fill_f32 takes three parameters; the driver gets a null fourth slot for a two-argument block.
        assertDriverError("CUDA_ERROR_INVALID_VALUE") {
            try ctx.launch("fill_f32", elements: 16, arguments: CUDAKernelArguments().buffer(out).int64(16))
        }
        // A kernel that the loaded PTX does not declare.
        let ptx = try ctx.nvrtc.compile(CUDAKernels.gemm.source, name: "gemm.cu", options: ctx.compileOptions)
        let module = try ctx.driver.loadModule(ptx: ptx)
        assertDriverError("CUDA_ERROR_NOT_FOUND") { _ = try ctx.driver.function("fill_f32", in: module) }
        assertDriverError("CUDA_ERROR_INVALID_IMAGE") { _ = try ctx.driver.loadModule(ptx: "not ptx") }
    }

    func testCopiesOutsideAnAllocationAreRefused() throws {
        let ctx = try emulator()
        let p = try ctx.driver.allocate(byteCount: 40, device: 0)
        defer { try? ctx.driver.free(p) }
        var host = [Float](repeating: 1, count: 11)
        assertDriverError("CUDA_ERROR_INVALID_VALUE") {
            try host.withUnsafeBytes { try ctx.driver.copy(from: $0.baseAddress!, to: p, byteCount: 44) }
        }
        assertDriverError("CUDA_ERROR_INVALID_VALUE") {
            try host.withUnsafeMutableBytes { try ctx.driver.copy(from: p + 4, to: $0.baseAddress!, byteCount: 40) }
        }
        assertDriverError("CUDA_ERROR_INVALID_VALUE") { try ctx.driver.fill(p, pattern: 0, count: 11) }
        assertDriverError("CUDA_ERROR_INVALID_VALUE") { try ctx.driver.free(p + 8) }
    }

    /// A kernel told to write past its buffer faults on the guard page after it; the fault is
    /// reported by the next synchronising call, and the context works again afterwards.
    func testOutOfBoundsKernelAccessIsAnIllegalAddress() throws {
        let ctx = try emulator()
        let p = try ctx.driver.allocate(byteCount: 1000 * 4, device: 0)
        defer { try? ctx.driver.free(p) }
        try ctx.launch("fill_f32", elements: 1001, arguments: CUDAKernelArguments().pointer(p).int64(1001).float(0))
        assertDriverError("CUDA_ERROR_ILLEGAL_ADDRESS") { try ctx.synchronize() }
        try ctx.launch("fill_f32", elements: 1000, arguments: CUDAKernelArguments().pointer(p).int64(1000).float(3))
        var host = [Float](repeating: 0, count: 1000)
        try host.withUnsafeMutableBytes { try ctx.driver.copy(from: p, to: $0.baseAddress!, byteCount: 4000) }
        XCTAssertEqual(Set(host), [3])
    }
}
