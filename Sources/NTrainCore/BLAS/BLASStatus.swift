import NTrainCPU

/// What `BLAS` loaded, for `ntrain devices`.
public struct BLASStatus: Equatable, Sendable {
    /// The library name that was opened (`libopenblas.so.0`).
    public var library: String
    /// `openblas_get_config()`: version and build options.
    public var config: String?
    /// `openblas_get_corename()`: the kernels in use.
    public var core: String?
    /// What ntrain asked for and why.
    public var choice: OpenBLASCoreChoice
    /// Nil when the kernels in use passed `GEMMSelfCheck`, else what disagreed.
    public var selfCheckFailure: String?
    /// Set when ntrain's choice failed the self-check and OpenBLAS's own detection is used instead.
    public var fallback: String?

    public init(library: String, config: String?, core: String?, choice: OpenBLASCoreChoice,
                selfCheckFailure: String?, fallback: String?) {
        self.library = library
        self.config = config
        self.core = core
        self.choice = choice
        self.selfCheckFailure = selfCheckFailure
        self.fallback = fallback
    }

    /// Set when OpenBLAS runs other kernels than the ones requested (a name this OpenBLAS does not
    /// know, or a build for one CPU only, which ignores `OPENBLAS_CORETYPE`).
    public var requestIgnored: String? {
        guard fallback == nil, let requested = choice.core, let core, requested.lowercased() != core.lowercased() else { return nil }
        return "OpenBLAS runs \(core), not the requested \(requested) (a core type it does not know, or a build for one CPU)"
    }
}
