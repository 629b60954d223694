import Foundation

/// Whether this CPU can run ntrain's engine as it was compiled.
///
/// Package.swift compiles the engine modules for Haswell-class x86-64 (AVX2, FMA, BMI, F16C, …)
/// when the build machine has those features, because the kernels' loops then run 8 lanes wide
/// instead of SSE2's 4 (same results bit for bit: no contraction into FMA, no reassociation).
/// A binary built so must not run its engine on an older CPU, where it would die on an illegal
/// instruction: the command-line tool calls `problem()` first. This module itself is compiled
/// for baseline x86-64.
public enum EngineCPU {
    /// The /proc/cpuinfo flags the engine was compiled to use (empty for a portable build).
    public static var requiredFeatures: [String] {
        #if NTRAIN_ENGINE_HASWELL
        return haswellFeatures
        #else
        return []
        #endif
    }

    /// What `-target-cpu haswell` lets the compiler use, as /proc/cpuinfo names it (LZCNT is `abm`).
    public static let haswellFeatures = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "popcnt"]

    /// The features of `required` missing from the first `flags` line of /proc/cpuinfo text.
    public static func missing(_ required: [String], cpuinfo: String) -> [String] {
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return required }
        let flags = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        return required.filter { !flags.contains($0) }
    }

    /// Nil when the engine can run here, else a message saying what is missing and how to
    /// rebuild. Without a readable /proc/cpuinfo the CPU is trusted.
    public static func problem(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        let required = requiredFeatures
        guard !required.isEmpty, let cpuinfo else { return nil }
        let lacking = missing(required, cpuinfo: cpuinfo)
        guard !lacking.isEmpty else { return nil }
        return "this ntrain was built for x86-64 CPUs with AVX2 and FMA (Intel Haswell, AMD Zen or later), "
            + "and this CPU lacks \(lacking.joined(separator: ", ")); rebuild it for any x86-64 CPU with "
            + "`rm -rf .build && NTRAIN_PORTABLE=1 swift build -c release`"
    }
}
