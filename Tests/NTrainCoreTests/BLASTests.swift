import Foundation
import NTrainCPU
@testable import NTrainCore
import XCTest

/// OpenBLAS as loaded by `BLAS`: the self-check, the fall-back sequence, what this process loaded.
final class BLASTests: XCTestCase {
    /// A plain triple loop, optionally wrong in one way, in `GEMMSelfCheck.Gemm`'s shape.
    private func referenceGemm(wrongWhenTransposedA: Bool = false) -> GEMMSelfCheck.Gemm {
        return { transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            for i in 0..<m {
                for j in 0..<n {
                    var sum: Float = 0
                    for p in 0..<k {
                        // The wrong variant reads op(A) untransposed: a kernel that mixes up a layout.
                        let x = transA && !wrongWhenTransposedA ? a[p * lda + i] : a[min(i * lda + p, (transA ? k * lda : m * lda) - 1)]
                        sum += x * (transB ? b[j * ldb + p] : b[p * ldb + j])
                    }
                    c[i * ldc + j] = alpha * sum + beta * c[i * ldc + j]
                }
            }
        }
    }

    func testSelfCheckPassesACorrectGemmAndTheLoadedOpenBLAS() {
        XCTAssertNil(GEMMSelfCheck.run(referenceGemm()))
        XCTAssertNil(GEMMSelfCheck.run { transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc)
        })
    }

    func testSelfCheckFindsWrongAnswers() throws {
        let layout = try XCTUnwrap(GEMMSelfCheck.run(referenceGemm(wrongWhenTransposedA: true)))
        XCTAssertTrue(layout.hasPrefix("case 2 (7×5×3, Aᵀ·B)"), layout)
        // Off by one in the last element of the biggest product only (an edge-case kernel bug).
        let edge = try XCTUnwrap(GEMMSelfCheck.run { transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            self.referenceGemm()(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            if k == 600 { c[(m - 1) * ldc + n - 1] += 0.5 }
        })
        XCTAssertTrue(edge.contains("C[11][19]"), edge)
    }

    /// A stand-in library for `BLASLoading.resolve`: its core and whether it passes the check.
    private struct FakeLibrary: Equatable { var core: String? }

    func testOwnChoiceThatFailsTheCheckFallsBackToOpenBLASsDetection() {
        var opened: [String?] = [], closed: [FakeLibrary] = []
        let outcome = BLASLoading.resolve(
            choice: OpenBLASCoreChoice(core: "SkylakeX", reason: "AVX-512"),
            open: { opened.append($0); return FakeLibrary(core: $0) }, close: { closed.append($0) }, canReopen: { true },
            check: { $0.core == "SkylakeX" ? "case 1: wrong" : nil })
        XCTAssertEqual(opened, ["SkylakeX", nil])
        XCTAssertEqual(closed, [FakeLibrary(core: "SkylakeX")])
        XCTAssertEqual(outcome.library, FakeLibrary(core: nil))
        XCTAssertNil(outcome.selfCheckFailure, "OpenBLAS's own choice passed")
        XCTAssertEqual(outcome.fallback, "the SkylakeX kernels failed the GEMM self-check (case 1: wrong); using OpenBLAS's own detection")

        // Both fail: the second failure is what is reported for the kernels in use.
        let both = BLASLoading.resolve(
            choice: OpenBLASCoreChoice(core: "Haswell", reason: "AVX2"),
            open: { FakeLibrary(core: $0) }, close: { _ in }, canReopen: { true },
            check: { $0.core == nil ? "case 3: also wrong" : "case 1: wrong" })
        XCTAssertEqual(both.selfCheckFailure, "case 3: also wrong")
        XCTAssertNotNil(both.fallback)
    }

    func testUsersChoiceAndPassingChoicesAreKept() {
        var opened: [String?] = []
        let user = BLASLoading.resolve(
            choice: OpenBLASCoreChoice(core: "Prescott", reason: "OPENBLAS_CORETYPE=Prescott is set", isUsers: true),
            open: { opened.append($0); return FakeLibrary(core: $0) }, close: { _ in XCTFail("closed") }, canReopen: { true },
            check: { _ in "case 2: wrong" })
        XCTAssertEqual(opened, ["Prescott"])
        XCTAssertEqual(user.selfCheckFailure, "case 2: wrong")
        XCTAssertNil(user.fallback)

        let passing = BLASLoading.resolve(
            choice: OpenBLASCoreChoice(core: "Zen", reason: "AVX2 on AMD"),
            open: { FakeLibrary(core: $0) }, close: { _ in XCTFail("closed") }, canReopen: { true }, check: { _ in nil })
        XCTAssertEqual(passing.library, FakeLibrary(core: "Zen"))
        XCTAssertNil(passing.selfCheckFailure)
        XCTAssertNil(passing.fallback)

        // A library that stays loaded after dlclose cannot be reopened with other kernels: say so.
        let stuck = BLASLoading.resolve(
            choice: OpenBLASCoreChoice(core: "SkylakeX", reason: "AVX-512"),
            open: { FakeLibrary(core: $0) }, close: { _ in }, canReopen: { false }, check: { _ in "wrong" })
        XCTAssertEqual(stuck.library, FakeLibrary(core: "SkylakeX"))
        XCTAssertTrue(stuck.fallback?.contains("could not be unloaded") ?? false, "\(String(describing: stuck.fallback))")
    }

    func testARequestOpenBLASIgnoredIsReported() {
        let choice = OpenBLASCoreChoice(core: "SkylakeX", reason: "AVX-512")
        let ignored = BLASStatus(library: "libopenblas.so.0", config: nil, core: "Haswell", choice: choice, selfCheckFailure: nil, fallback: nil)
        XCTAssertEqual(ignored.requestIgnored, "OpenBLAS runs Haswell, not the requested SkylakeX (a core type it does not know, or a build for one CPU)")
        // Same kernels in another case, a fallback (which says why itself), or no request: nothing to add.
        XCTAssertNil(BLASStatus(library: "l", config: nil, core: "SKYLAKEX", choice: choice, selfCheckFailure: nil, fallback: nil).requestIgnored)
        XCTAssertNil(BLASStatus(library: "l", config: nil, core: "Haswell", choice: choice, selfCheckFailure: nil, fallback: "fell back").requestIgnored)
        XCTAssertNil(BLASStatus(library: "l", config: nil, core: "Haswell", choice: OpenBLASCoreChoice(core: nil, reason: "OpenBLAS"),
                                selfCheckFailure: nil, fallback: nil).requestIgnored)
    }

    func testThisProcessLoadedTheChosenKernels() throws {
        let status = try XCTUnwrap(BLAS.status, "\(String(describing: BLAS.loadError))")
        XCTAssertNil(status.selfCheckFailure)
        XCTAssertNil(status.fallback)
        let user = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? ""
        let expected = OpenBLASCoreChoice.choose(features: .current, userCoreType: user)
        XCTAssertEqual(status.choice, expected)
        if let requested = expected.core, status.requestIgnored == nil {
            XCTAssertEqual(status.core?.lowercased(), requested.lowercased())
        }
        // The variable is back as it was: children see the user's environment.
        XCTAssertEqual(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "", user)
        XCTAssertGreaterThan(BLAS.measureGFLOPS(n: 128, repeats: 1), 0.1)
    }
}
