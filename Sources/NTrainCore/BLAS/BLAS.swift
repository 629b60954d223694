import Foundation
import NTrainCPU

/// OpenBLAS as ntrain uses it: loaded at first use with the kernels ntrain chose for this CPU,
/// checked, and reported.
///
/// At first use (`ntrain train`, `eval` and `devices` call `load()` first, before other threads exist):
/// 1. `OpenBLASCoreChoice` picks a core type from the CPU's features (`CPUFeatures`), unless the
///    user set `OPENBLAS_CORETYPE`, which always wins;
/// 2. OpenBLAS is opened with that `OPENBLAS_CORETYPE` (its constructor reads the variable once);
/// 3. `GEMMSelfCheck` runs; if ntrain's own choice fails it, the library is unloaded and opened
///    again with OpenBLAS's own detection, and `status` says so.
/// Loading, checking included, takes 6-9 ms, mostly OpenBLAS's own constructor (docs/cpu.md).
public enum BLAS {
    /// What was loaded and why; nil when OpenBLAS could not be loaded (`loadError` says why).
    public static var status: BLASStatus? { try? loaded.get().status }

    /// Why OpenBLAS could not be loaded; nil when it is loaded.
    public static var loadError: BLASError? {
        if case .failure(let error) = loaded { return error }
        return nil
    }

    /// Loads OpenBLAS now, if that has not happened yet. Throws when it cannot be loaded.
    public static func load() throws { _ = try loaded.get() }

    /// `cblas_sgemm` with CblasRowMajor: C = alpha·op(A)·op(B) + beta·C.
    @inline(__always)
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(library, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// `library`'s `cblas_sgemm` with CblasRowMajor, from Swift's types.
    @inline(__always)
    private static func sgemm(
        _ library: OpenBLASLibrary, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        library.sgemm(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans, Int32(m), Int32(n), Int32(k),
                      alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// OpenBLAS's own thread count (1 unless changed: ntrain's kernels parallelise over the batch).
    public static func setThreadCount(_ count: Int) { library.setThreadCount(Int32(count)) }

    // cblas.h's CBLAS_ORDER and CBLAS_TRANSPOSE values.
    private static let rowMajor: Int32 = 101
    private static let noTrans: Int32 = 111
    private static let trans: Int32 = 112

    private static var library: OpenBLASLibrary {
        switch loaded {
        case .success(let loaded): return loaded.library
        case .failure(let error): fatalError("\(error)")
        }
    }

    private struct Loaded: Sendable {
        var library: OpenBLASLibrary
        var status: BLASStatus
    }

    private static let loaded: Result<Loaded, BLASError> = Result {
        let environment = ProcessInfo.processInfo.environment
        let choice = OpenBLASCoreChoice.choose(features: .current, userCoreType: environment["OPENBLAS_CORETYPE"])
        let fault = environment["NTRAIN_BLAS_SELF_CHECK_FAULT"]
        let outcome = try BLASLoading.resolve(
            choice: choice,
            open: { try OpenBLASLibrary(coreType: $0) },
            close: { $0.close() },
            canReopen: { OpenBLASLibrary.isUnloaded },
            check: { library in selfCheck(library, injectingFaultFor: fault) })
        let library = outcome.library
        return Loaded(library: library, status: BLASStatus(
            library: library.name, config: library.config, core: library.core, choice: choice,
            selfCheckFailure: outcome.selfCheckFailure, fallback: outcome.fallback))
    }.mapError { ($0 as? BLASError) ?? .notFound(["\($0)"]) }

    /// Runs `GEMMSelfCheck` on `library`. `NTRAIN_BLAS_SELF_CHECK_FAULT=CORE` (for ntrain's tests)
    /// adds 1 to one result whenever the loaded core is CORE, so the fallback can be exercised on a
    /// machine whose OpenBLAS is correct.
    private static func selfCheck(_ library: OpenBLASLibrary, injectingFaultFor fault: String?) -> String? {
        let inject = fault.map { $0.lowercased() == library.core?.lowercased() } ?? false
        return GEMMSelfCheck.run { transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            sgemm(library, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            if inject { c[0] += 1 }
        }
    }
}

extension BLAS {
    /// GFLOP/s of one n×n×n `sgemm` at OpenBLAS's current thread count (1 in ntrain), timed after
    /// one untimed product; the best of `repeats`.
    public static func measureGFLOPS(n: Int = 512, repeats: Int = 3) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for round in 0...repeats {
                        let start = DispatchTime.now().uptimeNanoseconds
                        sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                              b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                        if round > 0 { best = min(best, seconds) }
                    }
                }
            }
        }
        return 2 * Double(n * n * n) / best / 1e9
    }
}
