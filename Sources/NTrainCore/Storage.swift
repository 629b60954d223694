import Foundation

/// A reference-counted, 64-byte aligned byte buffer. Buffers come from and return to `BufferPool`,
/// so a training loop with fixed shapes stops calling malloc after its first step.
public final class Storage: @unchecked Sendable {
    public let bytes: UnsafeMutableRawPointer
    public let byteCount: Int

    /// Uninitialised storage of `byteCount` bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        self.bytes = BufferPool.shared.take(byteCount: byteCount)
    }

    deinit { BufferPool.shared.give(bytes, byteCount: byteCount) }
}

/// Size-keyed free lists of aligned buffers (a caching allocator, as in PyTorch's CUDA allocator).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    /// Upper bound on bytes kept for reuse; beyond it buffers are freed.
    public var capacity = 512 << 20

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
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
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
