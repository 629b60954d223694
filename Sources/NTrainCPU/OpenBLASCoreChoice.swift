/// Which of OpenBLAS's kernel sets (its `OPENBLAS_CORETYPE` names) ntrain asks for, and why.
///
/// OpenBLAS's own detection (DYNAMIC_ARCH builds) matches the CPU's family and model numbers
/// against a table; on a CPU newer than the library, or a VM whose CPUID hides the model,
/// OpenBLAS 0.3.21 falls back to its oldest x86-64 kernels (Prescott), 3-5x slower here.
/// Feature bits do not have that problem, so ntrain chooses from them, as oneDNN and MKL do.
/// Only names that every OpenBLAS since 0.3.10 knows are chosen; ntrain's GEMMs are single
/// precision, where Cooperlake and Sapphire Rapids use the SkylakeX kernels anyway.
public struct OpenBLASCoreChoice: Equatable, Sendable {
    /// The core type to request; nil leaves the choice to OpenBLAS.
    public var core: String?
    /// Why, in words for `ntrain devices`.
    public var reason: String
    /// Whether the user chose (`OPENBLAS_CORETYPE`), so that ntrain never overrides it.
    public var isUsers: Bool

    public init(core: String?, reason: String, isUsers: Bool = false) {
        self.core = core
        self.reason = reason
        self.isUsers = isUsers
    }

    /// The choice for a CPU with `features`, unless `userCoreType` (the environment's
    /// `OPENBLAS_CORETYPE`) is set and non-empty: a user's own choice always wins.
    public static func choose(features: CPUFeatures, userCoreType: String?) -> OpenBLASCoreChoice {
        if let user = userCoreType?.trimmingWhitespace(), !user.isEmpty {
            return OpenBLASCoreChoice(core: user, reason: "OPENBLAS_CORETYPE=\(user) is set in the environment", isUsers: true)
        }
        if features.flags.contains("asimd") || features.vendor.isEmpty {
            // OpenBLAS reads the ID registers on AArch64, which VMs pass through: its choice stands.
            return OpenBLASCoreChoice(core: nil, reason: "OpenBLAS's own detection (no x86-64 CPUID here)")
        }
        if features.has("avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl") {
            return OpenBLASCoreChoice(core: "SkylakeX", reason: "AVX-512 F/CD/BW/DQ/VL with OS support")
        }
        if features.has("avx2", "fma") {
            return features.isAMD
                ? OpenBLASCoreChoice(core: "Zen", reason: "AVX2 and FMA on an AMD CPU")
                : OpenBLASCoreChoice(core: "Haswell", reason: "AVX2 and FMA")
        }
        if features.has("avx") {
            return OpenBLASCoreChoice(core: "Sandybridge", reason: "AVX without AVX2")
        }
        if features.has("sse4_2", "ssse3", "popcnt") {
            return OpenBLASCoreChoice(core: "Nehalem", reason: "SSE4.2 without AVX")
        }
        if features.has("ssse3") {
            return OpenBLASCoreChoice(core: "Core2", reason: "SSSE3 without SSE4.2")
        }
        return OpenBLASCoreChoice(core: "Prescott", reason: "baseline x86-64 (SSE3 at most)")
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
