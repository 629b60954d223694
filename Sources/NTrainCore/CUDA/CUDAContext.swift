import Foundation

/// One GPU ready for work: its primary context, caching allocator, and the kernel modules
/// compiled (NVRTC, for the device's own architecture) and loaded at first use.
///
/// It also holds the device's failure state: the first tensor op that failed on it since the last
/// sync point (`CUDARuntime.synchronize`), which makes later ops skip until it is thrown, as a
/// CUDA context's sticky error does.
public final class CUDAContext: @unchecked Sendable {
    public let driver: CUDADriver
    public let info: CUDADeviceInfo
    public let context: OpaquePointer
    public let allocator: CUDAAllocator
    public let nvrtc: NVRTC
    /// NVRTC options used for this device's kernels.
    public let compileOptions: [String]
    private var modules: [String: OpaquePointer] = [:]
    private var functions: [String: OpaquePointer] = [:]
    private let lock = NSLock()
    private let failureLock = NSLock()
    private var firstFailure: Error?

    /// Opens GPU `index` through the process's driver and NVRTC.
    /// - Throws: `CUDAError` (no driver, no device, index out of range, driver failures) or
    ///   `NVRTCError.libraryNotFound`.
    public init(device index: Int, driver: CUDADriver? = nil, nvrtc: NVRTC? = nil) throws {
        let driver = try driver ?? CUDADriver.shared()
        let info = try driver.info(device: index)
        self.driver = driver
        self.info = info
        self.context = try driver.primaryContext(device: index)
        self.allocator = CUDAAllocator(backend: CUDADriverMemory(driver: driver, deviceIndex: index))
        self.nvrtc = try nvrtc ?? NVRTC.shared()
        self.compileOptions = NVRTC.defaultOptions(architecture: info.virtualArchitecture)
    }

    /// The first op failure since the last sync point, if any.
    public var failure: Error? {
        failureLock.lock()
        defer { failureLock.unlock() }
        return firstFailure
    }

    /// Keeps `failure` unless an earlier one is pending (later ones are usually its consequences).
    func record(_ failure: Error) {
        failureLock.lock()
        defer { failureLock.unlock() }
        if firstFailure == nil { firstFailure = failure }
    }

    /// The pending failure, cleared.
    func takeFailure() -> Error? {
        failureLock.lock()
        defer { failureLock.unlock() }
        defer { firstFailure = nil }
        return firstFailure
    }

    /// Makes this device's context current on the calling thread.
    public func makeCurrent() throws { try driver.makeCurrent(context) }

    /// The kernel `entryPoint` of `unit` (by default the `CUDAKernels` unit defining it), compiling
    /// and loading the unit on first use.
    public func function(_ entryPoint: String, in unit: CUDAKernelSource? = nil) throws -> OpaquePointer {
        lock.lock()
        defer { lock.unlock() }
        if let f = functions[entryPoint] { return f }
        guard let unit = unit ?? CUDAKernels.unit(defining: entryPoint) else {
            preconditionFailure("no CUDA kernel named \(entryPoint)")
        }
        let module: OpaquePointer
        if let m = modules[unit.name] {
            module = m
        } else {
            let ptx = try nvrtc.compile(unit.source, name: unit.name, options: compileOptions)
            try driver.willLoad?(unit)
            try driver.makeCurrent(context)
            module = try driver.loadModule(ptx: ptx)
            modules[unit.name] = module
        }
        let f = try driver.function(entryPoint, in: module)
        functions[entryPoint] = f
        return f
    }

    /// Launches `entryPoint` with explicit grid and block sizes.
    public func launch(_ entryPoint: String, in unit: CUDAKernelSource? = nil, grid: (Int, Int, Int), block: (Int, Int, Int),
                       arguments: CUDAKernelArguments) throws {
        let f = try function(entryPoint, in: unit)
        try arguments.withParameterArray { try driver.launch(f, grid: grid, block: block, arguments: $0) }
    }

    /// Launches a grid-stride kernel over `elements` items: `CUDAKernels.blockSize` threads per
    /// block, enough blocks to cover them (capped at 32 per multiprocessor; the loop does the rest).
    public func launch(_ entryPoint: String, in unit: CUDAKernelSource? = nil, elements: Int, arguments: CUDAKernelArguments) throws {
        guard elements > 0 else { return }
        let b = CUDAKernels.blockSize
        let blocks = Swift.min((elements + b - 1) / b, Swift.max(1, info.multiprocessors) * 32)
        try launch(entryPoint, in: unit, grid: (blocks, 1, 1), block: (b, 1, 1), arguments: arguments)
    }

    /// Launches a block-per-row kernel (`*_rows`, `*_channels`, batch-norm, cross-entropy) over `rows`.
    public func launch(_ entryPoint: String, rows: Int, arguments: CUDAKernelArguments) throws {
        guard rows > 0 else { return }
        let blocks = Swift.min(rows, 65535)
        try launch(entryPoint, grid: (blocks, 1, 1), block: (CUDAKernels.blockSize, 1, 1), arguments: arguments)
    }

    /// Waits for queued work and surfaces any launch error.
    public func synchronize() throws { try driver.synchronize() }

    /// A device copy of a host tensor.
    public func upload(_ tensor: Tensor) throws -> CUDABuffer {
        let buffer = try allocator.allocate(byteCount: tensor.count * tensor.dtype.byteSize)
        try buffer.upload(tensor)
        return buffer
    }

    /// A device buffer of `count` float32 zeros.
    public func zeros(_ count: Int) throws -> CUDABuffer {
        let buffer = try allocator.allocate(byteCount: count * 4)
        if count > 0 { try driver.fill(buffer.address, pattern: 0, count: count) }
        return buffer
    }

    /// A host tensor with the buffer's contents (waits for queued kernels first).
    public func download(_ buffer: CUDABuffer, shape: Shape, dtype: DType = .float32) throws -> Tensor {
        try synchronize()
        let t = Tensor(uninitialized: shape, dtype: dtype)
        try buffer.download(into: t)
        return t
    }
}
