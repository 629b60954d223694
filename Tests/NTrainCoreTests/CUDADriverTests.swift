import Foundation
import XCTest
@testable import NTrainCore

/// The CUDA driver's failure paths, which every machine without a GPU takes, and the messages users see.
final class CUDADriverTests: XCTestCase {
    func testMissingDriverLibraryIsNoDriverWithDlerror() {
        XCTAssertThrowsError(try CUDADriver(library: "/nonexistent/libcuda.so.1")) { error in
            guard case let CUDAError.noDriver(library, detail) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(library, "/nonexistent/libcuda.so.1")
            XCTAssertTrue(detail.contains("/nonexistent/libcuda.so.1"), "dlerror text expected, got \(detail)")
            XCTAssertTrue("\(error)".hasPrefix("no CUDA driver: /nonexistent/libcuda.so.1 could not be loaded"), "\(error)")
            XCTAssertTrue("\(error)".contains("install the NVIDIA driver"), "\(error)")
        }
    }

    func testLibraryWithoutDriverSymbolsIsSymbolMissing() {
        XCTAssertThrowsError(try CUDADriver(library: "libz.so.1")) { error in
            XCTAssertEqual(error as? CUDAError, .symbolMissing(library: "libz.so.1", symbol: "cuInit"))
            XCTAssertTrue("\(error)".contains("libz.so.1 is not a usable CUDA driver: it lacks cuInit"), "\(error)")
        }
    }

    func testProbeWithoutDriverExplainsWhy() {
        let cuda = CUDAAvailability.probe(driverLibrary: "/nonexistent/libcuda.so.1")
        guard case .unavailable(let reason) = cuda else { return XCTFail("expected unavailable, got \(cuda)") }
        XCTAssertTrue(reason.hasPrefix("no CUDA driver: /nonexistent/libcuda.so.1"), reason)
        let list = CUDADeviceInfo.list(driverLibrary: "libz.so.1")
        XCTAssertEqual(list, .failure(.symbolMissing(library: "libz.so.1", symbol: "cuInit")))
    }

    func testThisMachinesProbeMatchesWhetherLibcudaLoads() {
        let cuda = CUDAAvailability.probe()
        if CUDARuntime.hasInstalledDriver {
            // Another test installed the CUDA host emulator: the probe reports its device.
            XCTAssertEqual(cuda, .available(deviceCount: 1))
        } else if let handle = dlopen(CUDADriver.defaultLibrary, RTLD_NOW | RTLD_LOCAL) {
            dlclose(handle)
        } else {
            guard case .unavailable(let reason) = cuda else { return XCTFail("no libcuda, yet \(cuda)") }
            XCTAssertTrue(reason.hasPrefix("no CUDA driver: libcuda.so.1 could not be loaded"), reason)
        }
    }

    func testGPURequestsWithoutCUDAFailWithTheReasonAndXpuxFallsBack() throws {
        let cuda = CUDAAvailability.probe(driverLibrary: "/nonexistent/libcuda.so.1")
        for text in ["gpux", "gpu0", "gpu3"] {
            XCTAssertThrowsError(try DeviceSpec(parsing: text).resolve(cuda: cuda)) { error in
                guard case let DeviceError.gpuUnavailable(requested, reason) = error else { return XCTFail("got \(error)") }
                XCTAssertEqual(requested, text)
                XCTAssertTrue(reason.contains("no CUDA driver"), reason)
                XCTAssertTrue("\(error)".contains("device \(text) is not usable: no CUDA driver"), "\(error)")
                XCTAssertTrue("\(error)".contains("--device cpux"), "\(error)")
            }
        }
        XCTAssertEqual(try DeviceSpec(parsing: "xpux").resolve(cuda: cuda), .cpu)
        XCTAssertEqual(try DeviceSpec(parsing: "cpux").resolve(cuda: cuda), .cpu)
    }

    func testFoundDevicesAreUsable() throws {
        let h100 = CUDADeviceInfo(index: 0, name: "NVIDIA H100 80GB HBM3", totalMemory: 85_045_149_696,
                                  computeCapability: (9, 0), multiprocessors: 132)
        let cuda = CUDAAvailability.availability(of: [h100])
        XCTAssertEqual(cuda, .available(deviceCount: 1))
        XCTAssertEqual(try DeviceSpec(parsing: "gpu0").resolve(cuda: cuda), .gpu(0))
        XCTAssertEqual(try DeviceSpec(parsing: "gpux").resolve(cuda: cuda), .gpu(0))
        XCTAssertEqual(try DeviceSpec(parsing: "xpux").resolve(cuda: cuda), .gpu(0), "xpux picks a usable GPU")
        XCTAssertThrowsError(try DeviceSpec(parsing: "gpu1").resolve(cuda: cuda)) { error in
            XCTAssertEqual(error as? DeviceError, .indexOutOfRange(requested: "gpu1", count: 1))
        }
        guard case .unavailable(let none) = CUDAAvailability.availability(of: []) else { return XCTFail() }
        XCTAssertTrue(none.hasPrefix("no CUDA device"), none)
    }

    func testErrorMessagesSayWhatAndHowToFix() {
        XCTAssertEqual(CUDAError.indexOutOfRange(asked: 3, count: 2).description,
                       "GPU 3 does not exist: 2 CUDA device(s) found (gpu0…gpu1)")
        XCTAssertEqual(CUDAError.indexOutOfRange(asked: 0, count: 0).description, "GPU 0 does not exist: no CUDA device found")
        let oom = CUDAError.outOfMemory(requestedBytes: 3 << 30, freeBytes: 1 << 29, device: 1).description
        XCTAssertTrue(oom.hasPrefix("out of GPU memory on gpu1: asked for 3.0 GiB (3221225472 bytes), 512.0 MiB free"), oom)
        XCTAssertTrue(oom.contains("reduce the batch size"), oom)
        XCTAssertTrue(CUDAError.outOfMemory(requestedBytes: 100, freeBytes: nil, device: 0).description
            .hasPrefix("out of GPU memory on gpu0: asked for 100 bytes (100 bytes); "))
        XCTAssertEqual(CUDAError.driverError(call: "cuMemcpyHtoD_v2", code: 700, name: "CUDA_ERROR_ILLEGAL_ADDRESS").description,
                       "CUDA driver call cuMemcpyHtoD_v2 failed with CUDA_ERROR_ILLEGAL_ADDRESS (700)")
        XCTAssertTrue(CUDAError.noDevice(detail: "cuInit returned CUDA_ERROR_NO_DEVICE").description
            .contains("CUDA_VISIBLE_DEVICES"))
    }

    func testDeviceInfoDescribesNameMemoryAndCapability() {
        let info = CUDADeviceInfo(index: 1, name: "NVIDIA A100-SXM4-40GB", totalMemory: 42_505_273_344,
                                  computeCapability: (8, 0), multiprocessors: 108)
        XCTAssertEqual(info.description, "gpu1  NVIDIA A100-SXM4-40GB, 39.6 GiB, compute capability 8.0, 108 SMs")
        XCTAssertEqual(info.virtualArchitecture, "compute_80")
        XCTAssertEqual(CUDAError.formatBytes(1023), "1023 bytes")
        XCTAssertEqual(CUDAError.formatBytes(1536), "1.5 KiB")
    }

    func testKernelArgumentBlocksMatchTheCStructs() {
        let index = CUDAKernelArguments.stridedIndex(shape: [2, 3, 4], a: [12, 4, 1], b: [0, 1, 0])
        XCTAssertEqual(index.count, 25, "NTStridedIndex is 25 int64s")
        XCTAssertEqual(Array(index[0...4]), [3, 2, 3, 4, 0])
        XCTAssertEqual(Array(index[9...11]), [12, 4, 1])
        XCTAssertEqual(Array(index[17...19]), [0, 1, 0])
        let g = try! Conv2dGeometry(input: [2, 4, 9, 7], weight: [6, 2, 3, 2], stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2)
        XCTAssertEqual(CUDAKernelArguments.convGeometry(g, channels: 2, imageStride: 4 * 63, rowStride: 100),
                       [2, 2, 9, 7, 3, 2, 2, 1, 1, 0, 1, 2, Int64(g.outHeight), Int64(g.outWidth), 252, 100])
        let p = try! Pool2dGeometry(op: "maxPool2d", input: [2, 3, 8, 6], kernel: (3, 2), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(CUDAKernelArguments.poolGeometry(p), [6, 8, 6, 4, 4, 3, 2, 2, 2, 1, 1])
        let args = CUDAKernelArguments().int64(7).float(0.5).int32(-1).pointer(0xdead_beef).int64Struct(index)
        XCTAssertEqual(args.count, 5)
        args.withParameterArray { p in
            XCTAssertEqual(p[0]!.load(as: Int64.self), 7)
            XCTAssertEqual(p[1]!.load(as: Float.self), 0.5)
            XCTAssertEqual(p[2]!.load(as: Int32.self), -1)
            XCTAssertEqual(p[3]!.load(as: UInt64.self), 0xdead_beef)
            XCTAssertEqual(p[4]!.load(fromByteOffset: 24 * 8, as: Int64.self), 0)
            XCTAssertEqual(p[4]!.load(fromByteOffset: 1 * 8, as: Int64.self), 2)
        }
    }
}
