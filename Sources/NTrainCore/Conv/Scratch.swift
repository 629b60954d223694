import Foundation

/// Reusable float scratch memory for kernels (im2col columns, per-chunk partial sums).
///
/// One cached, 64-byte aligned region grows to the largest request and is reused by every later
/// call, so a training loop with fixed shapes allocates nothing per step. A nested or concurrent
/// request (the cache is in use) gets a temporary buffer instead, so callers never share memory.
enum Scratch {
    nonisolated(unsafe) private static var cached: UnsafeMutableRawPointer?
    nonisolated(unsafe) private static var cachedBytes = 0
    nonisolated(unsafe) private static var busy = false
    private static let lock = NSLock()

    /// Floats per chunk rounded up to a 64-byte multiple, so chunks never share a cache line.
    @inline(__always)
    static func stride(_ floats: Int) -> Int { (max(floats, 1) + 15) & ~15 }

    /// Calls `body` with at least `floats` uninitialised floats, valid only during the call.
    static func withFloats<R>(_ floats: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let bytes = max(64, (floats * MemoryLayout<Float>.stride + 63) & ~63)
        lock.lock()
        if !busy {
            busy = true
            if cachedBytes < bytes {
                cached?.deallocate()
                cached = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                cachedBytes = bytes
            }
            let p = cached!
            lock.unlock()
            defer { lock.lock(); busy = false; lock.unlock() }
            return body(p.assumingMemoryBound(to: Float.self))
        }
        lock.unlock()
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { p.deallocate() }
        return body(p.assumingMemoryBound(to: Float.self))
    }
}
