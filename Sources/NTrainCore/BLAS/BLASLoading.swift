import NTrainCPU

/// The load, check and fall-back sequence of `BLAS`, over injected operations so that tests can
/// drive it with libraries that fail.
public enum BLASLoading {
    public struct Outcome<Library> {
        public var library: Library
        public var selfCheckFailure: String?
        public var fallback: String?
    }

    /// Opens `choice.core` and checks it. When ntrain's own choice (not the user's) fails the check
    /// and the library can be unloaded, opens it again with OpenBLAS's own detection (nil) and
    /// checks that instead. A user's choice that fails is kept and reported.
    public static func resolve<Library>(
        choice: OpenBLASCoreChoice,
        open: (String?) throws -> Library, close: (Library) -> Void, canReopen: () -> Bool,
        check: (Library) -> String?
    ) rethrows -> Outcome<Library> {
        let first = try open(choice.core)
        guard let failure = check(first) else { return Outcome(library: first, selfCheckFailure: nil, fallback: nil) }
        guard !choice.isUsers, let requested = choice.core else {
            return Outcome(library: first, selfCheckFailure: failure, fallback: nil)
        }
        close(first)
        guard canReopen() else {
            return Outcome(library: try open(choice.core), selfCheckFailure: failure,
                           fallback: "the \(requested) kernels failed the GEMM self-check (\(failure)), and OpenBLAS "
                               + "could not be unloaded to fall back; set OPENBLAS_CORETYPE to another core type")
        }
        let second = try open(nil)
        return Outcome(library: second, selfCheckFailure: check(second),
                       fallback: "the \(requested) kernels failed the GEMM self-check (\(failure)); "
                           + "using OpenBLAS's own detection")
    }
}
