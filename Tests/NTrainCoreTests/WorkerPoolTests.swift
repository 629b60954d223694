import Foundation
import XCTest
@testable import NTrainCore

final class WorkerPoolTests: XCTestCase {
    /// Adds 1 to counts[c] for each chunk c a region runs (chunks write disjoint slots, as kernels do).
    private func region(_ pool: WorkerPool, chunks: Int, _ counts: UnsafeMutablePointer<Int>) -> Bool {
        pool.run(chunks: chunks, slots: chunks) { c, _ in counts[c] += 1 }
    }

    func testEveryChunkRunsOnceInEachOfManyRegions() {
        let pool = WorkerPool(workers: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: 4)
        let regions = 5000
        for r in 0..<regions {
            // 1 to 4 chunks: workers without a chunk still take part in the region.
            XCTAssertTrue(region(pool, chunks: r % 4 + 1, counts))
        }
        // Chunk c runs in the regions with more than c chunks: (4 − c) of every 4.
        XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: 4)), (0..<4).map { regions / 4 * (4 - $0) })
    }

    func testSleepingWorkersWakeForTheNextRegion() {
        let pool = WorkerPool(workers: 1)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: 2)
        for _ in 0..<3 {
            XCTAssertTrue(region(pool, chunks: 2, counts))
            Thread.sleep(forTimeInterval: 0.03)  // longer than the spin time: the worker sleeps
        }
        XCTAssertEqual([counts[0], counts[1]], [3, 3])
    }

    func testANestedRegionIsRefusedAndTheOuterOneCompletes() {
        let pool = WorkerPool(workers: 1)
        let nested = UnsafeMutablePointer<Bool>.allocate(capacity: 2)
        defer { nested.deallocate() }
        nested.initialize(repeating: true, count: 2)
        XCTAssertTrue(pool.run(chunks: 2, slots: 2) { c, _ in nested[c] = pool.run(chunks: 1, slots: 1) { _, _ in } })
        XCTAssertEqual([nested[0], nested[1]], [false, false])
    }

    func testParallelForEachChunkIsSafeFromConcurrentCallers() {
        // Two threads issuing regions at once: one gets the pool, the other falls back to libdispatch.
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        let n = 1000, rounds = 300
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            let partial = UnsafeMutablePointer<Int>.allocate(capacity: 2)
            defer { partial.deallocate() }
            var total = 0
            for _ in 0..<rounds {
                Parallel.forEachChunk(n) { chunk, range in partial[chunk] = range.reduce(0, +) }
                total += partial[0] + partial[1]
            }
            sums[caller] = total
        }
        XCTAssertEqual([sums[0], sums[1]], [rounds * n * (n - 1) / 2, rounds * n * (n - 1) / 2])
    }

    func testEveryTaskRunsOnceOnASlotInRange() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        let tasks = 37
        XCTAssertEqual(Parallel.slotCount(tasks: tasks), 3)
        XCTAssertEqual(Parallel.slotCount(tasks: 2), 2)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
        defer { counts.deallocate(); slots.deallocate() }
        for _ in 0..<200 {
            counts.initialize(repeating: 0, count: tasks)
            Parallel.forEachTask(tasks) { t, slot in counts[t] += 1; slots[t] = slot }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: tasks)), Array(repeating: 1, count: tasks))
            XCTAssertTrue(UnsafeBufferPointer(start: slots, count: tasks).allSatisfy { (0..<3).contains($0) })
        }
    }

    /// Tasks go to whichever thread is free: a caller that stalls on each of its tasks (as a
    /// preempted vCPU does) leaves most of them to the workers.
    func testAStalledThreadRunsFewerTasks() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        let tasks = 40
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
        defer { slots.deallocate() }
        slots.initialize(repeating: -1, count: tasks)
        Parallel.forEachTask(tasks) { t, slot in
            slots[t] = slot
            if slot == 0 { Thread.sleep(forTimeInterval: 0.002) }
        }
        let byCaller = UnsafeBufferPointer(start: slots, count: tasks).filter { $0 == 0 }.count
        XCTAssertFalse(UnsafeBufferPointer(start: slots, count: tasks).contains(-1))
        XCTAssertLessThan(byCaller, tasks / 2, "the worker should have taken the tasks the stalled caller could not")
    }
}
