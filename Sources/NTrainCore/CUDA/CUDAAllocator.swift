import Foundation

/// Raw device memory under the caching allocator: the CUDA driver on a GPU (`CUDADriverMemory`),
/// or a host-memory stand-in in tests.
public protocol CUDAMemoryBackend: AnyObject {
    /// The GPU ordinal (for error messages).
    var deviceIndex: Int { get }
    /// New device memory; throws `CUDAError.outOfMemory` when the device is full.
    func allocate(byteCount: Int) throws -> CUDADevicePointer
    func free(_ pointer: CUDADevicePointer) throws
    /// Free device memory in bytes, when known.
    func freeBytes() -> Int?
    func copy(from host: UnsafeRawPointer, to device: CUDADevicePointer, byteCount: Int) throws
    func copy(from device: CUDADevicePointer, to host: UnsafeMutableRawPointer, byteCount: Int) throws
}

/// Device memory through the driver, for one GPU (whose context must be current).
public final class CUDADriverMemory: CUDAMemoryBackend {
    public let driver: CUDADriver
    public let deviceIndex: Int

    public init(driver: CUDADriver, deviceIndex: Int) {
        self.driver = driver
        self.deviceIndex = deviceIndex
    }

    public func allocate(byteCount: Int) throws -> CUDADevicePointer {
        try driver.allocate(byteCount: byteCount, device: deviceIndex)
    }
    public func free(_ pointer: CUDADevicePointer) throws { try driver.free(pointer) }
    public func freeBytes() -> Int? { try? driver.memoryInfo().free }
    public func copy(from host: UnsafeRawPointer, to device: CUDADevicePointer, byteCount: Int) throws {
        try driver.copy(from: host, to: device, byteCount: byteCount)
    }
    public func copy(from device: CUDADevicePointer, to host: UnsafeMutableRawPointer, byteCount: Int) throws {
        try driver.copy(from: device, to: host, byteCount: byteCount)
    }
}

/// A caching device allocator (the scheme of PyTorch's CUDA caching allocator, simplified): freed
/// blocks go to size-bucketed free lists and are reused by the next request of the same bucket, so
/// a training loop with fixed shapes stops calling `cuMemAlloc` after its first step. When the
/// device is full it releases its whole cache and tries once more before reporting
/// `CUDAError.outOfMemory` with the size asked.
public final class CUDAAllocator: @unchecked Sendable {
    public let backend: CUDAMemoryBackend
    private var free: [Int: [CUDADevicePointer]] = [:]
    private let lock = NSLock()

    /// Bytes in live buffers (bucket sizes).
    public private(set) var allocatedBytes = 0
    /// Bytes held in the free lists.
    public private(set) var cachedBytes = 0
    /// The largest `allocatedBytes` seen.
    public private(set) var peakAllocatedBytes = 0
    /// Calls that reached the backend (`cuMemAlloc`): flat after the first step of a steady loop.
    public private(set) var backendAllocations = 0

    public init(backend: CUDAMemoryBackend) {
        self.backend = backend
    }

    /// The bucket a request falls in: multiples of 512 bytes up to 1 MiB, then multiples of 1 MiB
    /// (at most 1 MiB, and under half, wasted per block).
    public static func bucketSize(_ byteCount: Int) -> Int {
        let small = 512, large = 1 << 20
        let n = Swift.max(1, byteCount)
        return n <= large ? (n + small - 1) / small * small : (n + large - 1) / large * large
    }

    /// A device buffer of at least `byteCount` bytes, reused from the cache when one is free.
    /// - Throws: `CUDAError.outOfMemory` (with `byteCount`) when the device cannot provide it even
    ///   after the cache is released.
    public func allocate(byteCount: Int) throws -> CUDABuffer {
        precondition(byteCount >= 0, "CUDAAllocator: negative size \(byteCount)")
        let size = CUDAAllocator.bucketSize(byteCount)
        lock.lock()
        defer { lock.unlock() }
        let address: CUDADevicePointer
        if let p = free[size]?.popLast() {
            cachedBytes -= size
            address = p
        } else {
            address = try allocateFromBackend(size, requested: byteCount)
        }
        allocatedBytes += size
        peakAllocatedBytes = Swift.max(peakAllocatedBytes, allocatedBytes)
        return CUDABuffer(address: address, byteCount: byteCount, capacity: size, allocator: self)
    }

    /// Called with the lock held.
    private func allocateFromBackend(_ size: Int, requested: Int) throws -> CUDADevicePointer {
        backendAllocations += 1
        do {
            return try backend.allocate(byteCount: size)
        } catch CUDAError.outOfMemory {
            // Cached blocks of other sizes may be what fills the device: give them back, retry once.
            try releaseCache()
            do {
                return try backend.allocate(byteCount: size)
            } catch CUDAError.outOfMemory(_, let freeBytes, let device) {
                throw CUDAError.outOfMemory(requestedBytes: requested, freeBytes: freeBytes ?? backend.freeBytes(), device: device)
            }
        }
    }

    /// Returns a buffer's block to its free list (from `CUDABuffer.deinit`).
    func release(_ address: CUDADevicePointer, capacity: Int) {
        lock.lock()
        defer { lock.unlock() }
        allocatedBytes -= capacity
        free[capacity, default: []].append(address)
        cachedBytes += capacity
    }

    /// Frees every cached block back to the device.
    public func emptyCache() throws {
        lock.lock()
        defer { lock.unlock() }
        try releaseCache()
    }

    /// Called with the lock held.
    private func releaseCache() throws {
        let blocks = free
        free.removeAll()
        cachedBytes = 0
        for (_, pointers) in blocks {
            for p in pointers { try backend.free(p) }
        }
    }
}

/// A block of device memory from a `CUDAAllocator`; it goes back to the allocator's cache when
/// the last reference is dropped.
public final class CUDABuffer: @unchecked Sendable {
    /// The device address (pass `&buffer.address`-style to kernel arguments).
    public let address: CUDADevicePointer
    /// Bytes asked for.
    public let byteCount: Int
    /// Bytes reserved (the allocator's bucket size).
    public let capacity: Int
    public let allocator: CUDAAllocator

    init(address: CUDADevicePointer, byteCount: Int, capacity: Int, allocator: CUDAAllocator) {
        self.address = address
        self.byteCount = byteCount
        self.capacity = capacity
        self.allocator = allocator
    }

    deinit { allocator.release(address, capacity: capacity) }

    /// Copies `byteCount` bytes from host memory into the start of the buffer.
    public func copy(fromHost host: UnsafeRawPointer, byteCount n: Int) throws {
        precondition(n <= byteCount, "CUDABuffer: copying \(n) bytes into a \(byteCount)-byte buffer")
        try allocator.backend.copy(from: host, to: address, byteCount: n)
    }

    /// Copies the first `byteCount` bytes of the buffer into host memory.
    public func copy(toHost host: UnsafeMutableRawPointer, byteCount n: Int) throws {
        precondition(n <= byteCount, "CUDABuffer: copying \(n) bytes out of a \(byteCount)-byte buffer")
        try allocator.backend.copy(from: address, to: host, byteCount: n)
    }

    /// Uploads a host tensor's elements (a batch boundary copy).
    public func upload(_ tensor: Tensor) throws {
        try copy(fromHost: tensor.storage.bytes, byteCount: tensor.count * tensor.dtype.byteSize)
    }

    /// Downloads into a host tensor of the same byte size.
    public func download(into tensor: Tensor) throws {
        try copy(toHost: tensor.storage.bytes, byteCount: tensor.count * tensor.dtype.byteSize)
    }
}
