import Foundation
import XCTest
@testable import NTrainCore

/// Drives `CUDADriver` against a stand-in libcuda written in C with the driver API's prototypes
/// (host memory as device memory), compiled by the toolchain's clang at test time. It checks the
/// Swift function-pointer types, device enumeration, error-code mapping and the allocator over
/// the driver, none of which needs a GPU. Skips where no C compiler is found.
final class CUDAFakeDriverTests: XCTestCase {
    private static let source = #"""
    #include <stdlib.h>
    #include <string.h>
    #include <stdint.h>
    typedef int CUresult;
    static int init_result = 0, devices = 2;
    static size_t capacity = 64u << 20, used = 0;
    static int context_token;
    void fake_configure(int init, int count, size_t bytes) { init_result = init; devices = count; capacity = bytes; used = 0; }
    size_t fake_used(void) { return used; }
    CUresult cuInit(unsigned flags) { return flags ? 1 : init_result; }
    CUresult cuDriverGetVersion(int* v) { *v = 12040; return 0; }
    CUresult cuDeviceGetCount(int* n) { if (init_result) return 3; *n = devices; return 0; }
    CUresult cuDeviceGet(int* d, int ordinal) { if (ordinal < 0 || ordinal >= devices) return 101; *d = ordinal; return 0; }
    CUresult cuDeviceGetName(char* name, int len, int d) { char b[64]; strcpy(b, "Fake GPU "); b[9] = '0' + d; b[10] = 0; strncpy(name, b, len); return 0; }
    CUresult cuDeviceTotalMem_v2(size_t* bytes, int d) { *bytes = capacity; return 0; }
    CUresult cuDeviceGetAttribute(int* v, int attribute, int d) {
        if (attribute == 75) *v = 8; else if (attribute == 76) *v = 6; else if (attribute == 16) *v = 84; else return 1;
        return 0;
    }
    CUresult cuDevicePrimaryCtxRetain(void** ctx, int d) { *ctx = &context_token; return 0; }
    CUresult cuCtxSetCurrent(void* ctx) { return ctx == &context_token ? 0 : 201; }
    CUresult cuCtxSynchronize(void) { return 0; }
    CUresult cuModuleLoadData(void** m, const void* image) { *m = (void*)image; return 0; }
    CUresult cuModuleGetFunction(void** f, void* m, const char* name) { return 500; }
    CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared, void* stream, void** params, void** extra) { return 400; }
    CUresult cuMemAlloc_v2(uint64_t* p, size_t n) {
        if (used + n > capacity) return 2;
        size_t* block = malloc(n + 16);
        block[0] = n;
        used += n;
        *p = (uint64_t)(uintptr_t)(block + 2);
        return 0;
    }
    CUresult cuMemFree_v2(uint64_t p) { size_t* block = (size_t*)(uintptr_t)p - 2; used -= block[0]; free(block); return 0; }
    CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) { *free_bytes = capacity - used; *total = capacity; return 0; }
    CUresult cuMemcpyHtoD_v2(uint64_t d, const void* h, size_t n) { memcpy((void*)(uintptr_t)d, h, n); return 0; }
    CUresult cuMemcpyDtoH_v2(void* h, uint64_t d, size_t n) { memcpy(h, (void*)(uintptr_t)d, n); return 0; }
    CUresult cuMemsetD32_v2(uint64_t d, unsigned v, size_t n) { unsigned* p = (unsigned*)(uintptr_t)d; for (size_t i = 0; i < n; i++) p[i] = v; return 0; }
    static const char* name_of(int code) {
        switch (code) {
        case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
        case 3: return "CUDA_ERROR_NOT_INITIALIZED";
        case 100: return "CUDA_ERROR_NO_DEVICE";
        case 101: return "CUDA_ERROR_INVALID_DEVICE";
        case 500: return "CUDA_ERROR_NOT_FOUND";
        default: return 0;
        }
    }
    CUresult cuGetErrorName(int code, const char** s) { *s = name_of(code); return *s ? 0 : 1; }
    CUresult cuGetErrorString(int code, const char** s) { *s = name_of(code); return *s ? 0 : 1; }
    """#

    /// The compiled stand-in, built once per test process.
    private static let library: Result<String, Error> = {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("ntrain-fake-cuda-\(getpid())").path
        let compilers = ["/opt/swift/usr/bin/clang", "/usr/bin/cc", "/usr/bin/clang", "/usr/bin/gcc"].filter { fm.isExecutableFile(atPath: $0) }
        do {
            guard let cc = compilers.first else { throw XCTSkip("no C compiler to build the stand-in libcuda") }
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try source.write(toFile: dir + "/fake_cuda.c", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: cc)
            process.arguments = ["-shared", "-fPIC", "-O1", "-o", dir + "/libfakecuda.so", dir + "/fake_cuda.c"]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw XCTSkip("\(cc) could not build the stand-in libcuda") }
            return .success(dir + "/libfakecuda.so")
        } catch {
            return .failure(error)
        }
    }()

    /// Loads the stand-in after `fake_configure(init, devices, capacity)`.
    private func fakeDriver(initResult: Int32 = 0, devices: Int32 = 2, capacity: Int = 64 << 20) throws -> (CUDADriver, String) {
        let path = try Self.library.get()
        let driver = try CUDADriver(library: path)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL), let configure = dlsym(handle, "fake_configure") else {
            throw XCTSkip("stand-in libcuda lacks fake_configure")
        }
        typealias Configure = @convention(c) (Int32, Int32, Int) -> Void
        unsafeBitCast(configure, to: Configure.self)(initResult, devices, capacity)
        return (driver, path)
    }

    func testDevicesAreListedWithNameMemoryAndCapability() throws {
        let (driver, path) = try fakeDriver()
        try driver.initialize()
        XCTAssertEqual(try driver.deviceCount(), 2)
        let version = try driver.driverVersion()
        XCTAssertEqual(version.major, 12)
        XCTAssertEqual(version.minor, 4)
        let devices = try driver.devices()
        XCTAssertEqual(devices, [
            CUDADeviceInfo(index: 0, name: "Fake GPU 0", totalMemory: 64 << 20, computeCapability: (8, 6), multiprocessors: 84),
            CUDADeviceInfo(index: 1, name: "Fake GPU 1", totalMemory: 64 << 20, computeCapability: (8, 6), multiprocessors: 84),
        ])
        XCTAssertEqual(devices[1].virtualArchitecture, "compute_86")
        XCTAssertEqual(CUDADeviceInfo.list(driverLibrary: path).map { $0.count }, .success(2))
        // The stand-in cannot run kernels (cuModuleGetFunction fails), so the probe's test kernel
        // fails and its GPUs are reported unusable, saying why (or NVRTC is missing, and that is why).
        guard case .unavailable(let reason) = CUDAAvailability.probe(driverLibrary: path) else { return XCTFail() }
        switch NVRTC.load(from: NVRTC.candidates()) {
        case .success:
            XCTAssertTrue(reason.hasPrefix("found 2 CUDA device(s), but a test kernel did not run on gpu0: "), reason)
            XCTAssertTrue(reason.contains("CUDA_ERROR_NOT_FOUND") || reason.contains("cuModuleGetFunction"), reason)
        case .failure(let error):
            XCTAssertEqual(reason, "found 2 CUDA device(s), but \(error)")
        }
    }

    func testIndexOutOfRangeAndNoDevice() throws {
        let (driver, path) = try fakeDriver()
        XCTAssertThrowsError(try driver.info(device: 2)) { error in
            XCTAssertEqual(error as? CUDAError, .indexOutOfRange(asked: 2, count: 2))
        }
        XCTAssertThrowsError(try driver.primaryContext(device: -1)) { error in
            XCTAssertEqual(error as? CUDAError, .indexOutOfRange(asked: -1, count: 2))
        }
        _ = try fakeDriver(devices: 0)
        XCTAssertThrowsError(try driver.devices()) { error in
            guard case CUDAError.noDevice = error else { return XCTFail("got \(error)") }
        }
        _ = try fakeDriver(initResult: 100)
        XCTAssertThrowsError(try driver.initialize()) { error in
            XCTAssertEqual(error as? CUDAError, .noDevice(detail: "cuInit returned CUDA_ERROR_NO_DEVICE"))
        }
        guard case .unavailable(let reason) = CUDAAvailability.probe(driverLibrary: path) else { return XCTFail() }
        XCTAssertTrue(reason.hasPrefix("no CUDA device: cuInit returned CUDA_ERROR_NO_DEVICE"), reason)
    }

    func testDriverErrorsCarryTheDriversName() throws {
        let (driver, _) = try fakeDriver()
        XCTAssertEqual(driver.errorName(2), "CUDA_ERROR_OUT_OF_MEMORY")
        XCTAssertEqual(driver.errorName(999), "CUDA_ERROR_999")
        let ctx = try driver.primaryContext(device: 1)
        try driver.makeCurrent(ctx)
        let module = try driver.loadModule(ptx: ".version 8.0")
        XCTAssertThrowsError(try driver.function("missing_kernel", in: module)) { error in
            XCTAssertEqual(error as? CUDAError, .driverError(call: "cuModuleGetFunction(missing_kernel)", code: 500, name: "CUDA_ERROR_NOT_FOUND"))
        }
    }

    func testAllocatorOverTheDriverCopiesAndReportsOutOfMemory() throws {
        let (driver, path) = try fakeDriver(capacity: 8 << 20)
        let allocator = CUDAAllocator(backend: CUDADriverMemory(driver: driver, deviceIndex: 0))
        let x = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, 7, -0.25])
        let buffer = try allocator.allocate(byteCount: 24)
        try buffer.upload(x)
        let y = Tensor(uninitialized: [2, 3])
        try buffer.download(into: y)
        XCTAssertEqual(y.scalars, x.scalars)
        try driver.fill(buffer.address, pattern: Float(2.5).bitPattern, count: 6)
        try buffer.download(into: y)
        XCTAssertEqual(y.scalars, Array(repeating: 2.5, count: 6))
        XCTAssertThrowsError(try allocator.allocate(byteCount: 9 << 20)) { error in
            XCTAssertEqual(error as? CUDAError, .outOfMemory(requestedBytes: 9 << 20, freeBytes: (8 << 20) - 512, device: 0))
        }
        let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)
        typealias Used = @convention(c) () -> Int
        let used = unsafeBitCast(dlsym(handle, "fake_used")!, to: Used.self)
        XCTAssertEqual(used(), 512)
        _ = buffer
    }
}
