import NTrainCore
import Foundation

/// The machine's GEMM ceiling: `cblas_sgemm` GFLOP/s on an n×n×n product with OpenBLAS's own
/// threading at `threads` threads (the best ntrain's kernels could reach on large matrices).
enum GemmCeiling {
    static func measure(n: Int = 1024, threads: Int, repeats: Int = 10) -> (gflops: Double, best: Double) {
        BLAS.setThreadCount(threads)
        defer { BLAS.setThreadCount(1) }
        let count = n * n
        let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        var g = SystemRandomNumberGenerator()
        for i in 0..<count {
            a[i] = Float.random(in: -1...1, using: &g)
            b[i] = Float.random(in: -1...1, using: &g)
        }
        func run() { BLAS.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n, beta: 0, c: c, ldc: n) }
        run()
        var rates: [Double] = []
        let flops = 2 * Double(n) * Double(n) * Double(n)
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            run()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            rates.append(flops / seconds / 1e9)
        }
        rates.sort()
        return (rates[rates.count / 2], rates.last!)
    }
}
