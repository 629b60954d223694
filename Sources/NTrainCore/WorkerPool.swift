import Foundation
import Synchronization

/// Persistent worker threads that run the chunks of one parallel region at a time, for
/// `Parallel.forEachChunk`.
///
/// A training step runs dozens of short parallel regions (LeNet5 at batch 128: one every ~200 µs).
/// `DispatchQueue.concurrentPerform` wakes its threads for every region, which costs 25–80 µs a
/// region measured here; these workers instead spin (yielding the CPU to anything else runnable)
/// for a few milliseconds after a region, as OpenMP's do (`KMP_BLOCKTIME`, `GOMP_SPINCOUNT`), so a
/// region starts in about a microsecond, and only then sleep on a semaphore.
///
/// Chunks are claimed in order from a shared counter by whichever participant is free (the
/// caller and up to `slots − 1` workers), so a thread that the machine slows down (a preempted or
/// stolen vCPU) simply runs fewer of them. Which thread runs a chunk never matters for the result:
/// chunks write disjoint outputs or their own partial sums, which callers add in chunk order;
/// scratch memory is per participant (`slot`), and every chunk runs in the caller's `Denormals` mode.
final class WorkerPool: @unchecked Sendable {
    /// Worker threads that started; the caller of `run` is the extra participant (slot 0).
    private(set) var workerCount = 0
    /// Worker threads asked for (fewer start when the system refuses threads, e.g. out of memory).
    let requestedWorkers: Int

    /// Bumped once per region; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Workers that have not yet finished the current region.
    private let pending = Atomic<Int>(0)
    /// Workers asleep (or about to sleep) on their semaphore.
    private let sleepers = Atomic<Int>(0)
    /// The next chunk to claim in the current region.
    private let nextChunk = Atomic<Int>(0)
    /// Held by the one thread whose region is in flight.
    private let busy = Atomic<Bool>(false)
    private let wakeups: [DispatchSemaphore]
    // Written by `run` before the generation bump, read by workers after it (release/acquire).
    nonisolated(unsafe) private var job: ((_ chunk: Int, _ slot: Int) -> Void)?
    nonisolated(unsafe) private var chunks = 0
    nonisolated(unsafe) private var slots = 0
    nonisolated(unsafe) private var flushesDenormals = false

    /// How long an idle worker spins before it sleeps.
    private static let spinTime = Duration.milliseconds(5)

    init(workers: Int) {
        requestedWorkers = workers
        wakeups = (0..<workers).map { _ in DispatchSemaphore(value: 0) }
        // pthread_create, not Foundation's Thread, whose start() cannot report a thread that never
        // ran: `run` would then wait forever for it. A refused thread leaves a smaller pool.
        for w in 0..<workers {
            let start = Unmanaged.passRetained(WorkerStart(self, w))
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { argument in
                let start = Unmanaged<WorkerStart>.fromOpaque(argument!).takeRetainedValue()
                Thread.current.name = "ntrain-worker-\(start.index + 1)"
                start.pool.work(as: start.index)
                return nil
            }, start.toOpaque())
            guard created == 0 else {
                start.release()
                break
            }
            pthread_detach(thread)
            workerCount += 1
        }
    }

    /// Runs `body(c, slot)` once for every c in 0..<chunks and returns when all have finished.
    /// `slots` participants (at most `workerCount + 1`) claim chunks in order: the caller as slot 0,
    /// workers as slots 1..<slots. Returns false without running anything when another region is
    /// in flight (a nested or concurrent call): the caller then runs it another way.
    func run(chunks count: Int, slots participants: Int, _ body: (_ chunk: Int, _ slot: Int) -> Void) -> Bool {
        precondition(participants >= 1 && participants <= requestedWorkers + 1 && participants <= count,
                     "WorkerPool: \(participants) participants for \(count) chunks and \(requestedWorkers) workers")
        // Chunks, not threads, decide the result, so a pool that got fewer threads gives the same bits.
        let participants = min(participants, workerCount + 1)
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        withoutActuallyEscaping(body) { body in
            job = body
            chunks = count
            slots = participants
            flushesDenormals = Denormals.flushedToZero
            nextChunk.store(0, ordering: .relaxed)
            pending.store(workerCount, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 { for s in wakeups { s.signal() } }
            claimChunks(slot: 0, body)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                // A worker descheduled by the OS needs this CPU more than the spin does.
                if spins > 2000 { sched_yield() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    @inline(__always)
    private func claimChunks(slot: Int, _ body: (_ chunk: Int, _ slot: Int) -> Void) {
        while true {
            let c = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
            guard c < chunks else { return }
            body(c, slot)
        }
    }

    private func work(as worker: Int) {
        let clock = ContinuousClock()
        // Not the current value: a region may already have been posted before this thread started.
        var seen = 0
        while true {
            var idleSince = clock.now, spins = 0
            while generation.load(ordering: .acquiring) == seen {
                sched_yield()
                spins += 1
                guard spins & 255 == 0, clock.now - idleSince > Self.spinTime else { continue }
                sleepers.add(1, ordering: .sequentiallyConsistent)
                // Re-check after announcing the sleep: `run` signals every sleeper it sees, so a
                // region posted in between is either seen here or wakes the semaphore (a spare
                // signal only makes a later wait return early, and the loop waits again).
                if generation.load(ordering: .sequentiallyConsistent) == seen { wakeups[worker].wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                idleSince = clock.now
            }
            seen = generation.load(ordering: .acquiring)
            if worker + 1 < slots, let job {
                Denormals.setFlushedToZero(flushesDenormals)
                claimChunks(slot: worker + 1, job)
            }
            pending.subtract(1, ordering: .releasing)
        }
    }
}

/// What a new worker thread needs, passed through pthread_create's context pointer.
private final class WorkerStart {
    let pool: WorkerPool
    let index: Int
    init(_ pool: WorkerPool, _ index: Int) {
        self.pool = pool
        self.index = index
    }
}
