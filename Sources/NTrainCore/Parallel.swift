import Dispatch
import Foundation
import Synchronization

/// Batch-level parallelism. Work is split into `threadCount` contiguous chunks whose boundaries
/// depend only on the thread count, and every reduction across chunks is summed in chunk order,
/// so the same seed and thread count give bit-identical results.
public enum Parallel {
    nonisolated(unsafe) private static var _threadCount = defaultThreadCount()

    /// `NTRAIN_THREADS`, else the number of active cores.
    public static func defaultThreadCount() -> Int {
        if let s = ProcessInfo.processInfo.environment["NTRAIN_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Threads used by kernels. OpenBLAS itself runs single-threaded (`BLAS` sets it so): we parallelise over the
    /// batch, which beats OpenBLAS's threading on the small GEMMs of these models.
    public static var threadCount: Int {
        get { _threadCount }
        set { precondition(newValue > 0); _threadCount = newValue }
    }

    /// Calls `body` on disjoint contiguous ranges covering 0..<n, concurrently. Ranges hold at
    /// least `minChunk` items (so tiny work stays on one thread). `body` receives the chunk index too.
    public static func forEachChunk(_ n: Int, minChunk: Int = 1, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        guard n > 0 else { return }
        let chunks = chunkCount(n, minChunk: minChunk)
        if chunks == 1 { body(0, 0..<n); return }
        run(chunks: chunks, slots: chunks) { c, _ in body(c, chunkRange(c, of: chunks, n: n)) }
    }

    /// Calls `body(t, slot)` for each task t in 0..<tasks, concurrently on `slotCount(tasks:)`
    /// threads that take the next task as soon as they are free, so a thread the machine slows
    /// down runs fewer tasks. `slot` (in 0..<slotCount) names the thread, for per-thread scratch;
    /// results that must not depend on the thread go to per-task storage.
    public static func forEachTask(_ tasks: Int, _ body: (_ task: Int, _ slot: Int) -> Void) {
        guard tasks > 0 else { return }
        let slots = slotCount(tasks: tasks)
        if slots == 1 { for t in 0..<tasks { body(t, 0) }; return }
        run(chunks: tasks, slots: slots, body)
    }

    /// Threads `forEachTask` uses for `tasks` tasks.
    public static func slotCount(tasks: Int) -> Int { max(1, min(threadCount, tasks)) }

    private static func run(chunks: Int, slots: Int, _ body: (_ chunk: Int, _ slot: Int) -> Void) {
        if pool(for: slots).run(chunks: chunks, slots: slots, body) { return }
        // A nested or concurrent region (the pool is busy) runs on libdispatch, with the same
        // chunks claimed the same way, in the caller's denormal mode.
        let flush = Denormals.flushedToZero
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: slots) { slot in
            Denormals.withFlushedToZero(flush) {
                while true {
                    let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard c < chunks else { return }
                    body(c, slot)
                }
            }
        }
    }

    nonisolated(unsafe) private static var workers: WorkerPool?
    private static let poolLock = NSLock()

    /// The worker pool, (re)built with enough workers for `participants` threads (the caller
    /// included); a pool that is replaced keeps its threads asleep (thread counts change only in
    /// tests and benchmarks).
    private static func pool(for participants: Int) -> WorkerPool {
        poolLock.lock()
        defer { poolLock.unlock() }
        if let workers, workers.requestedWorkers >= participants - 1 { return workers }
        let pool = WorkerPool(workers: participants - 1)
        workers = pool
        return pool
    }

    /// Number of chunks `forEachChunk` uses for `n` items.
    public static func chunkCount(_ n: Int, minChunk: Int = 1) -> Int {
        max(1, min(threadCount, n / max(1, minChunk)))
    }

    /// The range of chunk `c` of `chunks` over 0..<n (balanced, contiguous).
    public static func chunkRange(_ c: Int, of chunks: Int, n: Int) -> Range<Int> {
        let base = n / chunks, extra = n % chunks
        let start = c * base + min(c, extra)
        return start..<(start + base + (c < extra ? 1 : 0))
    }
}
