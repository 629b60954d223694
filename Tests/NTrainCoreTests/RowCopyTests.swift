import XCTest
@testable import NTrainCore

/// im2col's and col2im's short-row copies and adds against plain loops, for every length their
/// vector paths split differently (8s, 4, 2, 1 and the overlapping last vector).
final class RowCopyTests: XCTestCase {
    func testCopyRowAndAddRowMatchPlainLoopsAtEveryShortLength() {
        var rng = RandomGenerator(seed: 3)
        for n in 0...35 {
            // Offsets by one float so the vectors are unaligned, as im2col's rows are.
            let src = (0..<(n + 1)).map { _ in rng.normal() }
            let base = (0..<(n + 2)).map { _ in rng.normal() }
            var copied = base, added = base
            src.withUnsafeBufferPointer { s in
                copied.withUnsafeMutableBufferPointer { Kernels.copyRow($0.baseAddress! + 1, s.baseAddress! + 1, n) }
                added.withUnsafeMutableBufferPointer { Kernels.addRow($0.baseAddress! + 1, s.baseAddress! + 1, n) }
            }
            var expectCopy = base, expectAdd = base
            for i in 0..<n { expectCopy[i + 1] = src[i + 1]; expectAdd[i + 1] = base[i + 1] + src[i + 1] }
            XCTAssertEqual(copied.map(\.bitPattern), expectCopy.map(\.bitPattern), "copyRow n = \(n)")
            XCTAssertEqual(added.map(\.bitPattern), expectAdd.map(\.bitPattern), "addRow n = \(n)")
        }
    }
}
