import Foundation

/// A reference-counted, 64-byte aligned byte buffer. Buffers come from and return to `BufferPool`,
/// so a training loop with fixed shapes stops calling malloc after its first step.
///
/// GPU tensors' storage holds a `CUDABuffer` instead (device memory from the device's caching
/// allocator); its `bytes` point at a shared empty host block and must not be read (`Tensor.data`
/// refuses GPU tensors).
public final class Storage: @unchecked Sendable {
    public let bytes: UnsafeMutableRawPointer
    public let byteCount: Int
    /// Where the bytes live.
    public let device: Device
    /// The device memory of a GPU storage (nil on the CPU, and after a failed allocation, which
    /// `CUDARuntime` records and reports at the next check).
    public let cuda: CUDABuffer?

    /// Uninitialised host storage of `byteCount` bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        self.bytes = BufferPool.shared.take(byteCount: byteCount)
        self.device = .cpu
        self.cuda = nil
    }

    /// Storage over device memory of `device` (a GPU).
    public init(cuda: CUDABuffer?, byteCount: Int, device: Device) {
        precondition(device != .cpu, "Storage(cuda:) is for GPU devices")
        self.byteCount = byteCount
        self.bytes = Storage.noHostBytes
        self.device = device
        self.cuda = cuda
    }

    /// The device address of a GPU storage (0 when its allocation failed).
    public var deviceAddress: CUDADevicePointer { cuda?.address ?? 0 }

    nonisolated(unsafe) private static let noHostBytes = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)

    deinit { if device == .cpu { BufferPool.shared.give(bytes, byteCount: byteCount) } }
}

/// Size-keyed free lists of aligned buffers (a caching allocator, as in PyTorch's CUDA allocator).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    /// Upper bound on bytes kept for reuse; beyond it buffers are freed. An eighth of physical
    /// memory (at least 512 MiB): a ResNet step at batch 500 frees more than 512 MiB of
    /// activations, and returning them to the kernel cost a third of the step in page faults.
    public var capacity = max(512 << 20, Int(ProcessInfo.processInfo.physicalMemory / 8))

    private func roundedSize(_ n: Int) -> Int { max(64, (n + 63) & ~63) }

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = roundedSize(byteCount)
        lock.lock()
        if let p = free[size]?.popLast() {
            cachedBytes -= size
            lock.unlock()
            return p
        }
        lock.unlock()
        if let p = Self.allocate(size) { return p }
        // Out of memory: give the cached buffers back and try once more before giving up.
        trim()
        if let p = Self.allocate(size) { return p }
        Self.outOfMemory(size)
    }

    /// What happens when a buffer cannot be allocated, given its size in bytes. The command-line
    /// tool installs a handler that prints a clean error and exits 1; the default traps.
    nonisolated(unsafe) public static var outOfMemory: (Int) -> Never = { bytes in
        fatalError("out of memory: a buffer of \(bytes) bytes could not be allocated")
    }

    /// posix_memalign instead of UnsafeMutableRawPointer.allocate, which traps on failure; the
    /// buffer is released by `deallocate()` (free) as before.
    private static func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer?
        return posix_memalign(&p, 64, size) == 0 ? p : nil
    }

    func give(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        let size = roundedSize(byteCount)
        lock.lock()
        if cachedBytes + size <= capacity {
            free[size, default: []].append(p)
            cachedBytes += size
            lock.unlock()
        } else {
            lock.unlock()
            p.deallocate()
        }
    }

    /// Frees every cached buffer.
    public func trim() {
        lock.lock()
        let all = free.values.flatMap { $0 }
        free.removeAll()
        cachedBytes = 0
        lock.unlock()
        for p in all { p.deallocate() }
    }
}
