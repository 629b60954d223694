import Foundation

/// One loaded copy of OpenBLAS: the handle and the few entry points ntrain calls.
///
/// ntrain does not link OpenBLAS: it opens the library at run time, because a DYNAMIC_ARCH
/// OpenBLAS picks its kernels from `OPENBLAS_CORETYPE` once, in its load-time constructor, and the
/// dynamic linker would run that constructor before ntrain could choose (see `BLAS`).
final class OpenBLASLibrary: @unchecked Sendable {
    typealias SgemmFunction = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreadsFunction = @convention(c) (Int32) -> Void
    typealias StringFunction = @convention(c) () -> UnsafeMutablePointer<CChar>?

    /// The sonames tried in order: Debian's (an alternatives link to the pthread, OpenMP or serial
    /// build), then the unversioned development link.
    static let names = ["libopenblas.so.0", "libopenblas.so"]

    let name: String
    private var handle: UnsafeMutableRawPointer?
    let sgemm: SgemmFunction
    let setThreadCount: SetThreadsFunction
    /// `openblas_get_corename()`: the kernel set OpenBLAS uses.
    let core: String?
    /// `openblas_get_config()`: version and build options.
    let config: String?

    /// Opens OpenBLAS with `OPENBLAS_CORETYPE=coreType` for the duration of the load (nil: the
    /// environment as it is). The variable is restored afterwards, so child processes see the
    /// user's environment. OpenBLAS runs single-threaded: ntrain parallelises over the batch.
    init(coreType: String?) throws {
        let variable = "OPENBLAS_CORETYPE"
        let previous = getenv(variable).map { String(cString: $0) }
        if let coreType { setenv(variable, coreType, 1) }
        defer {
            if coreType != nil {
                if let previous { setenv(variable, previous, 1) } else { unsetenv(variable) }
            }
        }
        var errors: [String] = []
        var opened: (String, UnsafeMutableRawPointer)?
        for name in Self.names {
            if let handle = dlopen(name, RTLD_LAZY | RTLD_LOCAL) { opened = (name, handle); break }
            errors.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let (name, handle) = opened else { throw BLASError.notFound(errors) }
        func symbol<T>(_ symbolName: String, as type: T.Type) throws -> T {
            guard let pointer = dlsym(handle, symbolName) else {
                dlclose(handle)
                throw BLASError.missingSymbol(library: name, symbol: symbolName)
            }
            return unsafeBitCast(pointer, to: type)
        }
        self.name = name
        self.handle = handle
        sgemm = try symbol("cblas_sgemm", as: SgemmFunction.self)
        setThreadCount = try symbol("openblas_set_num_threads", as: SetThreadsFunction.self)
        let corename = try symbol("openblas_get_corename", as: StringFunction.self)
        let configString = try symbol("openblas_get_config", as: StringFunction.self)
        core = corename().map { String(cString: $0).trimmingCharacters(in: .whitespaces) }
        config = configString().map { String(cString: $0).trimmingCharacters(in: .whitespaces) }
        setThreadCount(1)
    }

    /// Unloads the library, so that opening it again runs its constructor again (with another
    /// core type). Only for a copy that nothing else has used.
    func close() {
        if let handle { dlclose(handle) }
        handle = nil
    }

    /// Whether no copy of OpenBLAS is loaded in this process any more.
    static var isUnloaded: Bool {
        names.allSatisfy { name in
            guard let handle = dlopen(name, RTLD_NOW | RTLD_NOLOAD) else { return true }
            dlclose(handle)
            return false
        }
    }
}

/// Why OpenBLAS could not be used.
public enum BLASError: Error, Equatable, CustomStringConvertible {
    case notFound([String])
    case missingSymbol(library: String, symbol: String)

    public var description: String {
        switch self {
        case .notFound(let errors):
            return "OpenBLAS could not be loaded (\(errors.joined(separator: "; "))); install it "
                + "(Debian/Ubuntu: apt-get install libopenblas0) or put libopenblas.so.0 on LD_LIBRARY_PATH"
        case .missingSymbol(let library, let symbol):
            return "\(library) has no \(symbol): it is not OpenBLAS, or too old; install OpenBLAS 0.3.10 or later"
        }
    }
}
