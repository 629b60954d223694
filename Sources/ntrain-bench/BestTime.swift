import Dispatch

/// The best of `runs` timings of `body`, in seconds, after one untimed run (the kernel
/// benchmarks: `unary`, `composition`, `conv`).
func bestTime(of runs: Int = 15, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    return best
}
