import Foundation
import XCTest
@testable import NTrainCore

final class DenormalsTests: XCTestCase {
    /// Read through an array so the compiler cannot fold the arithmetic at build time.
    private let values: [Float] = [Float.leastNormalMagnitude, 0.5, Float.leastNonzeroMagnitude, 1_048_576]

    /// 2⁻¹²⁶ · ½ (a subnormal result) and 2⁻¹⁴⁹ · 2²⁰ (a subnormal input).
    private func subnormalProducts() -> (result: Float, input: Float) {
        (values[0] * values[1], values[2] * values[3])
    }

    override func setUp() {
        XCTAssertFalse(Denormals.flushedToZero, "threads start with IEEE gradual underflow")
    }

    func testFlushingIsScopedToTheBodyAndRestored() {
        let ieee = subnormalProducts()
        XCTAssertEqual(ieee.result, Float.leastNormalMagnitude / 2)
        XCTAssertTrue(ieee.result.isSubnormal)
        XCTAssertEqual(ieee.input, Float.leastNonzeroMagnitude * 1_048_576)
        let flushed = Denormals.withFlushedToZero { () -> (Float, Float) in
            XCTAssertTrue(Denormals.flushedToZero)
            let inner = Denormals.withFlushedToZero(false) { subnormalProducts() }
            XCTAssertEqual(inner.result, ieee.result, "a nested false scope computes with subnormals")
            XCTAssertTrue(Denormals.flushedToZero, "and restores flushing after it")
            return subnormalProducts()
        }
        XCTAssertEqual(flushed.0, 0)
        XCTAssertEqual(flushed.1, 0, "subnormal inputs read as zero")
        XCTAssertFalse(Denormals.flushedToZero)
        XCTAssertEqual(subnormalProducts().result, ieee.result)
    }

    /// Every chunk of a region runs in the caller's mode, on the pool's workers and on the
    /// libdispatch fallback that a nested region takes.
    func testParallelChunksRunInTheCallersMode() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        let modes = UnsafeMutablePointer<Bool>.allocate(capacity: 9)
        let results = UnsafeMutablePointer<Float>.allocate(capacity: 9)
        defer { modes.deallocate(); results.deallocate() }
        for flush in [true, false, true] {
            modes.initialize(repeating: !flush, count: 9)
            results.initialize(repeating: -1, count: 9)
            Denormals.withFlushedToZero(flush) {
                Parallel.forEachChunk(3) { outer, _ in
                    Parallel.forEachChunk(3) { inner, _ in  // nested: the pool is busy
                        if outer == 0 {
                            modes[3 + inner] = Denormals.flushedToZero
                            results[3 + inner] = subnormalProducts().result
                        }
                    }
                    modes[outer] = Denormals.flushedToZero
                    results[outer] = subnormalProducts().result
                }
            }
            let expected: Float = flush ? 0 : Float.leastNormalMagnitude / 2
            XCTAssertEqual(Array(UnsafeBufferPointer(start: modes, count: 6)), Array(repeating: flush, count: 6), "flush \(flush)")
            XCTAssertEqual(Array(UnsafeBufferPointer(start: results, count: 6)), Array(repeating: expected, count: 6), "flush \(flush)")
            XCTAssertFalse(Denormals.flushedToZero)
        }
    }
}
