import Foundation

/// A device pointer (`CUdeviceptr`, 64-bit on every supported platform).
public typealias CUDADevicePointer = UInt64

/// The CUDA driver API (`libcuda.so.1`), loaded at run time with `dlopen` so that ntrain builds and
/// runs where no NVIDIA driver is installed. Every entry point is resolved when the library loads;
/// a missing one is `CUDAError.symbolMissing`, never a crash at first use.
///
/// Handles (`CUcontext`, `CUmodule`, `CUfunction`, `CUstream`) are opaque pointers. Calls return
/// `CUresult` codes, turned into `CUDAError.driverError` (with the driver's own error name) by `check`.
public final class CUDADriver: @unchecked Sendable {
    /// The library name the NVIDIA driver installs (the unversioned name needs the CUDA toolkit).
    /// `NTRAIN_CUDA_DRIVER` names another library to load instead (the CUDA host emulator in
    /// tests and CI, or a driver outside the loader path).
    public static let defaultLibrary: String = {
        let chosen = ProcessInfo.processInfo.environment["NTRAIN_CUDA_DRIVER"] ?? ""
        return chosen.isEmpty ? "libcuda.so.1" : chosen
    }()

    // Driver result codes the backend maps to specific errors (cuda.h `cudaError_enum`).
    static let success: Int32 = 0
    static let errorOutOfMemory: Int32 = 2
    static let errorNoDevice: Int32 = 100
    static let errorInvalidDevice: Int32 = 101
    // cuda.h `CUdevice_attribute`.
    static let attributeComputeCapabilityMajor: Int32 = 75
    static let attributeComputeCapabilityMinor: Int32 = 76
    static let attributeMultiprocessorCount: Int32 = 16

    typealias InitFn = @convention(c) (UInt32) -> Int32
    typealias DriverGetVersionFn = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias DeviceGetCountFn = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias DeviceGetFn = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias DeviceGetNameFn = @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32
    typealias DeviceTotalMemFn = @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Int32
    typealias DeviceGetAttributeFn = @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Int32
    typealias PrimaryCtxRetainFn = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> Int32
    typealias CtxSetCurrentFn = @convention(c) (OpaquePointer?) -> Int32
    typealias CtxSynchronizeFn = @convention(c) () -> Int32
    typealias ModuleLoadDataFn = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Int32
    typealias ModuleGetFunctionFn = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> Int32
    typealias LaunchKernelFn = @convention(c) (
        OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int32
    typealias MemAllocFn = @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Int32
    typealias MemFreeFn = @convention(c) (UInt64) -> Int32
    typealias MemGetInfoFn = @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> Int32
    typealias MemcpyHtoDFn = @convention(c) (UInt64, UnsafeRawPointer, Int) -> Int32
    typealias MemcpyDtoHFn = @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> Int32
    typealias MemsetD32Fn = @convention(c) (UInt64, UInt32, Int) -> Int32
    typealias GetErrorTextFn = @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32

    /// The path or name that was loaded.
    public let library: String
    /// Called with each kernel unit after NVRTC compiled it and before its PTX is loaded: how the
    /// CUDA host emulator builds the host copy of a unit that is not one of `CUDAKernels.all` (a
    /// new `UnaryOp`'s kernels). Nil for a real driver; set before the first launch.
    public var willLoad: (@Sendable (CUDAKernelSource) throws -> Void)?
    private let handle: UnsafeMutableRawPointer
    let cuInit: InitFn
    let cuDriverGetVersion: DriverGetVersionFn
    let cuDeviceGetCount: DeviceGetCountFn
    let cuDeviceGet: DeviceGetFn
    let cuDeviceGetName: DeviceGetNameFn
    let cuDeviceTotalMem: DeviceTotalMemFn
    let cuDeviceGetAttribute: DeviceGetAttributeFn
    let cuDevicePrimaryCtxRetain: PrimaryCtxRetainFn
    let cuCtxSetCurrent: CtxSetCurrentFn
    let cuCtxSynchronize: CtxSynchronizeFn
    let cuModuleLoadData: ModuleLoadDataFn
    let cuModuleGetFunction: ModuleGetFunctionFn
    let cuLaunchKernel: LaunchKernelFn
    let cuMemAlloc: MemAllocFn
    let cuMemFree: MemFreeFn
    let cuMemGetInfo: MemGetInfoFn
    let cuMemcpyHtoD: MemcpyHtoDFn
    let cuMemcpyDtoH: MemcpyDtoHFn
    let cuMemsetD32: MemsetD32Fn
    let cuGetErrorName: GetErrorTextFn
    let cuGetErrorString: GetErrorTextFn

    /// Loads `library` and resolves every entry point the backend uses. Does not call `cuInit`.
    /// - Throws: `CUDAError.noDriver` when `dlopen` fails, `.symbolMissing` when an entry point is absent.
    public init(library: String = CUDADriver.defaultLibrary) throws {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let detail = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw CUDAError.noDriver(library: library, detail: detail)
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else {
                dlclose(handle)
                throw CUDAError.symbolMissing(library: library, symbol: name)
            }
            return unsafeBitCast(p, to: type)
        }
        // `_v2` names are the 64-bit-size entry points that cuda.h's macros select.
        cuInit = try symbol("cuInit", InitFn.self)
        cuDriverGetVersion = try symbol("cuDriverGetVersion", DriverGetVersionFn.self)
        cuDeviceGetCount = try symbol("cuDeviceGetCount", DeviceGetCountFn.self)
        cuDeviceGet = try symbol("cuDeviceGet", DeviceGetFn.self)
        cuDeviceGetName = try symbol("cuDeviceGetName", DeviceGetNameFn.self)
        cuDeviceTotalMem = try symbol("cuDeviceTotalMem_v2", DeviceTotalMemFn.self)
        cuDeviceGetAttribute = try symbol("cuDeviceGetAttribute", DeviceGetAttributeFn.self)
        cuDevicePrimaryCtxRetain = try symbol("cuDevicePrimaryCtxRetain", PrimaryCtxRetainFn.self)
        cuCtxSetCurrent = try symbol("cuCtxSetCurrent", CtxSetCurrentFn.self)
        cuCtxSynchronize = try symbol("cuCtxSynchronize", CtxSynchronizeFn.self)
        cuModuleLoadData = try symbol("cuModuleLoadData", ModuleLoadDataFn.self)
        cuModuleGetFunction = try symbol("cuModuleGetFunction", ModuleGetFunctionFn.self)
        cuLaunchKernel = try symbol("cuLaunchKernel", LaunchKernelFn.self)
        cuMemAlloc = try symbol("cuMemAlloc_v2", MemAllocFn.self)
        cuMemFree = try symbol("cuMemFree_v2", MemFreeFn.self)
        cuMemGetInfo = try symbol("cuMemGetInfo_v2", MemGetInfoFn.self)
        cuMemcpyHtoD = try symbol("cuMemcpyHtoD_v2", MemcpyHtoDFn.self)
        cuMemcpyDtoH = try symbol("cuMemcpyDtoH_v2", MemcpyDtoHFn.self)
        cuMemsetD32 = try symbol("cuMemsetD32_v2", MemsetD32Fn.self)
        cuGetErrorName = try symbol("cuGetErrorName", GetErrorTextFn.self)
        cuGetErrorString = try symbol("cuGetErrorString", GetErrorTextFn.self)
        self.library = library
        self.handle = handle
    }

    // The driver stays loaded for the life of the process (contexts and modules outlive callers).

    // MARK: Loading once per process

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedResult: Result<CUDADriver, CUDAError>?

    /// The process-wide driver, loaded and initialised (`cuInit`) on first use; later calls return
    /// the same driver or the same error.
    public static func shared() throws -> CUDADriver {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let sharedResult { return try sharedResult.get() }
        let result: Result<CUDADriver, CUDAError>
        do {
            let driver = try CUDADriver()
            try driver.initialize()
            result = .success(driver)
        } catch let error as CUDAError {
            result = .failure(error)
        } catch {
            result = .failure(.noDriver(library: defaultLibrary, detail: "\(error)"))
        }
        sharedResult = result
        return try result.get()
    }

    // MARK: Errors

    /// The driver's name for a result code (`CUDA_ERROR_OUT_OF_MEMORY`), or `CUDA_ERROR_<code>`.
    public func errorName(_ code: Int32) -> String {
        var text: UnsafePointer<CChar>?
        guard cuGetErrorName(code, &text) == CUDADriver.success, let text else { return "CUDA_ERROR_\(code)" }
        return String(cString: text)
    }

    /// Throws `CUDAError.driverError` (or `.noDevice` for `CUDA_ERROR_NO_DEVICE`) unless `code` is success.
    public func check(_ code: Int32, _ call: String) throws {
        guard code != CUDADriver.success else { return }
        if code == CUDADriver.errorNoDevice {
            throw CUDAError.noDevice(detail: "\(call) returned CUDA_ERROR_NO_DEVICE")
        }
        throw CUDAError.driverError(call: call, code: code, name: errorName(code))
    }

    // MARK: Devices

    /// `cuInit(0)`; `CUDA_ERROR_NO_DEVICE` becomes `CUDAError.noDevice`.
    public func initialize() throws {
        try check(cuInit(0), "cuInit")
    }

    /// The driver's CUDA version as (major, minor), e.g. (12, 4).
    public func driverVersion() throws -> (major: Int, minor: Int) {
        var v: Int32 = 0
        try check(cuDriverGetVersion(&v), "cuDriverGetVersion")
        return (Int(v) / 1000, Int(v) % 1000 / 10)
    }

    /// How many devices the driver exposes (after `CUDA_VISIBLE_DEVICES`).
    public func deviceCount() throws -> Int {
        var n: Int32 = 0
        try check(cuDeviceGetCount(&n), "cuDeviceGetCount")
        return Int(n)
    }

    /// The driver handle of device `index`; `CUDAError.indexOutOfRange` past the last one.
    public func device(_ index: Int) throws -> Int32 {
        let count = try deviceCount()
        guard index >= 0, index < count else { throw CUDAError.indexOutOfRange(asked: index, count: count) }
        var d: Int32 = 0
        try check(cuDeviceGet(&d, Int32(index)), "cuDeviceGet")
        return d
    }

    /// Name, memory and compute capability of device `index`.
    public func info(device index: Int) throws -> CUDADeviceInfo {
        let d = try device(index)
        var name = [CChar](repeating: 0, count: 256)
        try check(cuDeviceGetName(&name, Int32(name.count - 1), d), "cuDeviceGetName")
        var bytes = 0
        try check(cuDeviceTotalMem(&bytes, d), "cuDeviceTotalMem_v2")
        var major: Int32 = 0, minor: Int32 = 0, sms: Int32 = 0
        try check(cuDeviceGetAttribute(&major, CUDADriver.attributeComputeCapabilityMajor, d), "cuDeviceGetAttribute")
        try check(cuDeviceGetAttribute(&minor, CUDADriver.attributeComputeCapabilityMinor, d), "cuDeviceGetAttribute")
        try check(cuDeviceGetAttribute(&sms, CUDADriver.attributeMultiprocessorCount, d), "cuDeviceGetAttribute")
        return CUDADeviceInfo(
            index: index, name: String(cString: name), totalMemory: bytes,
            computeCapability: (Int(major), Int(minor)), multiprocessors: Int(sms))
    }

    /// Every device's info; `CUDAError.noDevice` when there is none.
    public func devices() throws -> [CUDADeviceInfo] {
        let n = try deviceCount()
        guard n > 0 else { throw CUDAError.noDevice(detail: "the driver reports 0 devices") }
        return try (0..<n).map { try info(device: $0) }
    }

    // MARK: Contexts, modules, launches

    /// Retains device `index`'s primary context (the one the CUDA runtime shares) and makes it current.
    public func primaryContext(device index: Int) throws -> OpaquePointer {
        let d = try device(index)
        var ctx: OpaquePointer?
        try check(cuDevicePrimaryCtxRetain(&ctx, d), "cuDevicePrimaryCtxRetain")
        guard let ctx else { throw CUDAError.driverError(call: "cuDevicePrimaryCtxRetain", code: -1, name: "null context") }
        try makeCurrent(ctx)
        return ctx
    }

    /// Binds `context` to the calling thread (driver calls act on the current context).
    public func makeCurrent(_ context: OpaquePointer) throws {
        try check(cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// Waits for all work queued in the current context; reports errors of earlier launches.
    public func synchronize() throws {
        try check(cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// Loads a PTX (NUL-terminated) or cubin image into the current context.
    public func loadModule(ptx: String) throws -> OpaquePointer {
        var module: OpaquePointer?
        try ptx.withCString { try check(cuModuleLoadData(&module, UnsafeRawPointer($0)), "cuModuleLoadData") }
        guard let module else { throw CUDAError.driverError(call: "cuModuleLoadData", code: -1, name: "null module") }
        return module
    }

    /// A kernel entry point (`extern "C"` name) of a loaded module.
    public func function(_ name: String, in module: OpaquePointer) throws -> OpaquePointer {
        var f: OpaquePointer?
        try check(cuModuleGetFunction(&f, module, name), "cuModuleGetFunction(\(name))")
        guard let f else { throw CUDAError.driverError(call: "cuModuleGetFunction(\(name))", code: -1, name: "null function") }
        return f
    }

    /// Queues `function` on the default stream with `grid` × `block` threads; `arguments` points at
    /// one pointer per kernel parameter (see `CUDAKernelArguments`).
    public func launch(
        _ function: OpaquePointer, grid: (Int, Int, Int), block: (Int, Int, Int), sharedMemoryBytes: Int = 0,
        arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    ) throws {
        try check(
            cuLaunchKernel(function, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2),
                           UInt32(block.0), UInt32(block.1), UInt32(block.2), UInt32(sharedMemoryBytes), nil, arguments, nil),
            "cuLaunchKernel")
    }

    // MARK: Memory

    /// (free, total) bytes of the current context's device.
    public func memoryInfo() throws -> (free: Int, total: Int) {
        var free = 0, total = 0
        try check(cuMemGetInfo(&free, &total), "cuMemGetInfo_v2")
        return (free, total)
    }

    /// `cuMemAlloc`; out of memory is `CUDAError.outOfMemory` with the size asked and the free memory.
    public func allocate(byteCount: Int, device index: Int) throws -> CUDADevicePointer {
        var p: UInt64 = 0
        let code = cuMemAlloc(&p, Swift.max(1, byteCount))
        if code == CUDADriver.errorOutOfMemory {
            throw CUDAError.outOfMemory(requestedBytes: byteCount, freeBytes: try? memoryInfo().free, device: index)
        }
        try check(code, "cuMemAlloc_v2")
        return p
    }

    /// `cuMemFree`.
    public func free(_ pointer: CUDADevicePointer) throws {
        try check(cuMemFree(pointer), "cuMemFree_v2")
    }

    /// Copies `byteCount` bytes from host memory to the device (synchronous).
    public func copy(from host: UnsafeRawPointer, to device: CUDADevicePointer, byteCount: Int) throws {
        try check(cuMemcpyHtoD(device, host, byteCount), "cuMemcpyHtoD_v2")
    }

    /// Copies `byteCount` bytes from the device to host memory (synchronous).
    public func copy(from device: CUDADevicePointer, to host: UnsafeMutableRawPointer, byteCount: Int) throws {
        try check(cuMemcpyDtoH(host, device, byteCount), "cuMemcpyDtoH_v2")
    }

    /// Fills `count` 32-bit words with `pattern` (0 for zeros, `Float.bitPattern` for a float).
    public func fill(_ device: CUDADevicePointer, pattern: UInt32, count: Int) throws {
        try check(cuMemsetD32(device, pattern, count), "cuMemsetD32_v2")
    }
}
