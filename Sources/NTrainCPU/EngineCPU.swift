/// Whether this CPU can run ntrain's engine as it was compiled.
///
/// Package.swift compiles the engine modules for Haswell-class x86-64 (AVX2, FMA, BMI, F16C, …)
/// when the build machine has those features, because the kernels' loops then run 8 lanes wide
/// instead of SSE2's 4 (same results bit for bit: no contraction into FMA, no reassociation).
/// A binary built so must not run its engine on an older CPU, where it would die on an illegal
/// instruction: the command-line tool calls `problem()` first. This module itself is compiled
/// for baseline x86-64. The CPU is read by `CPUFeatures` (CPUID and XCR0), the same detection
/// that chooses OpenBLAS's kernels.
public enum EngineCPU {
    /// The features the engine was compiled to use, as /proc/cpuinfo names them (empty for a
    /// portable build).
    public static var requiredFeatures: [String] {
        #if NTRAIN_ENGINE_HASWELL
        return haswellFeatures
        #else
        return []
        #endif
    }

    /// What `-target-cpu haswell` lets the compiler use (LZCNT is `abm`). Package.swift, which
    /// cannot run CPUID, reads the same names from the build machine's /proc/cpuinfo.
    public static let haswellFeatures = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "popcnt"]

    /// The features of `required` that `features` lacks.
    public static func missing(_ required: [String], in features: CPUFeatures) -> [String] {
        required.filter { !features.flags.contains($0) }
    }

    /// Nil when the engine can run on a CPU with `features`, else a message saying what is
    /// missing and how to rebuild.
    public static func problem(features: CPUFeatures = .current) -> String? {
        let lacking = missing(requiredFeatures, in: features)
        guard !lacking.isEmpty else { return nil }
        return "this ntrain was built for x86-64 CPUs with AVX2 and FMA (Intel Haswell, AMD Zen or later), "
            + "and this CPU lacks \(lacking.joined(separator: ", ")); rebuild it for any x86-64 CPU with "
            + "`rm -rf .build && NTRAIN_PORTABLE=1 swift build -c release`"
    }
}
