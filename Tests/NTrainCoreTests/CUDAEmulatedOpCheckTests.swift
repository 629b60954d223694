import Foundation
import NTrainCUDAEmulator
import XCTest
@testable import NTrainCore

/// The GPU op check (`CUDAOpCheckTests`) on the CUDA host emulator: the same kernels, compiled by
/// NVRTC to PTX and looked up by entry name, run as host code on fibers. This checks the kernels'
/// arithmetic, indexing and block reductions, and the host code that launches them, without a
/// GPU. Skips where NVRTC or a C++ compiler is missing.
final class CUDAEmulatedOpCheckTests: CUDAOpCheckTests {
    override class func makeContext() throws -> CUDAContext {
        try CUDAHostEmulator.configure(devices: 1, memory: 1 << 30, computeCapability: (9, 0), multiprocessors: 2)
        return try CUDAContext(device: 0, driver: try CUDAHostEmulator.driver())
    }

    override class var unavailableMessage: String { "CUDA host emulator unavailable" }

    override func testCUBLASGemmMatchesTheCPU() throws {
        throw XCTSkip("cuBLAS is a binary library; it runs only on a GPU (scripts/gpu_check.sh)")
    }
}
