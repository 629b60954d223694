import Foundation

/// Why NVRTC could not load or compile a kernel.
public enum NVRTCError: Error, CustomStringConvertible, Equatable {
    /// No libnvrtc was found; `tried` lists every name and path attempted, in order.
    case libraryNotFound(tried: [String])
    /// The library loaded but lacks an entry point.
    case symbolMissing(library: String, symbol: String)
    /// The kernel source did not compile; `log` is NVRTC's program log (file:line: error: …).
    case compileFailed(program: String, options: [String], log: String)
    /// Any other NVRTC call failure.
    case callFailed(call: String, code: Int32, message: String)

    public var description: String {
        switch self {
        case let .libraryNotFound(tried):
            return "NVRTC (libnvrtc) not found; tried: \(tried.joined(separator: ", ")). Install the CUDA toolkit, or "
                + "`pip install nvidia-cuda-nvrtc-cu12` and set NTRAIN_NVRTC to its nvidia/cuda_nvrtc/lib/libnvrtc.so.12"
        case let .symbolMissing(library, symbol):
            return "\(library) is not a usable NVRTC library: it lacks \(symbol)"
        case let .compileFailed(program, options, log):
            return "NVRTC could not compile \(program) (options: \(options.joined(separator: " "))):\n\(log)"
        case let .callFailed(call, code, message):
            return "NVRTC call \(call) failed with \(message) (\(code))"
        }
    }
}

/// NVRTC, CUDA's run-time compiler, loaded with `dlopen`: turns CUDA C source into PTX on the CPU,
/// so kernels need no nvcc at build time and compile (and are testable) on machines without a GPU.
/// Compiled PTX is cached per process, keyed by source and options.
public final class NVRTC: @unchecked Sendable {
    typealias VersionFn = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
    typealias CreateProgramFn = @convention(c) (
        UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?
    ) -> Int32
    typealias CompileProgramFn = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    typealias SizeFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
    typealias TextFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
    typealias DestroyProgramFn = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias ErrorStringFn = @convention(c) (Int32) -> UnsafePointer<CChar>?

    /// The library that was loaded (a path or a soname).
    public let library: String
    private let nvrtcVersion: VersionFn
    private let nvrtcCreateProgram: CreateProgramFn
    private let nvrtcCompileProgram: CompileProgramFn
    private let nvrtcGetPTXSize: SizeFn
    private let nvrtcGetPTX: TextFn
    private let nvrtcGetProgramLogSize: SizeFn
    private let nvrtcGetProgramLog: TextFn
    private let nvrtcDestroyProgram: DestroyProgramFn
    private let nvrtcGetErrorString: ErrorStringFn

    private struct CacheKey: Hashable {
        var source: String
        var options: [String]
    }
    private var cache: [CacheKey: String] = [:]
    private let cacheLock = NSLock()

    /// Loads NVRTC from `library` (a path or a soname).
    /// - Throws: `NVRTCError.libraryNotFound` when `dlopen` fails, `.symbolMissing` when an entry point is absent.
    public init(library: String) throws {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let detail = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw NVRTCError.libraryNotFound(tried: ["\(library) (\(detail))"])
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else {
                dlclose(handle)
                throw NVRTCError.symbolMissing(library: library, symbol: name)
            }
            return unsafeBitCast(p, to: type)
        }
        nvrtcVersion = try symbol("nvrtcVersion", VersionFn.self)
        nvrtcCreateProgram = try symbol("nvrtcCreateProgram", CreateProgramFn.self)
        nvrtcCompileProgram = try symbol("nvrtcCompileProgram", CompileProgramFn.self)
        nvrtcGetPTXSize = try symbol("nvrtcGetPTXSize", SizeFn.self)
        nvrtcGetPTX = try symbol("nvrtcGetPTX", TextFn.self)
        nvrtcGetProgramLogSize = try symbol("nvrtcGetProgramLogSize", SizeFn.self)
        nvrtcGetProgramLog = try symbol("nvrtcGetProgramLog", TextFn.self)
        nvrtcDestroyProgram = try symbol("nvrtcDestroyProgram", DestroyProgramFn.self)
        nvrtcGetErrorString = try symbol("nvrtcGetErrorString", ErrorStringFn.self)
        self.library = library
    }

    // MARK: Finding the library

    /// Where to look for NVRTC, in order: `NTRAIN_NVRTC` (a file, or a directory holding
    /// libnvrtc.so*), the sonames the CUDA toolkit installs, the toolkit's default directory, then
    /// the `nvidia-cuda-nvrtc-cu12` pip package (`nvidia/cuda_nvrtc/lib/`) in virtual environments
    /// under the working directory, `VIRTUAL_ENV` and the usual site-packages directories.
    public static func candidates(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) -> [String] {
        CUDALibrarySearch.candidates(
            prefix: "libnvrtc.so", variable: "NTRAIN_NVRTC", sonames: ["libnvrtc.so.12", "libnvrtc.so.13", "libnvrtc.so.11.2", "libnvrtc.so"],
            pipPackage: "cuda_nvrtc", environment: environment, workingDirectory: workingDirectory)
    }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedResult: Result<NVRTC, NVRTCError>?

    /// The process-wide NVRTC: the first of `candidates()` that loads. Later calls return the same
    /// instance (and so share its PTX cache) or the same error.
    public static func shared() throws -> NVRTC {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let sharedResult { return try sharedResult.get() }
        let result = load(from: candidates())
        sharedResult = result
        return try result.get()
    }

    /// Tries `candidates` in order; the error lists every attempt and why it failed.
    public static func load(from candidates: [String]) -> Result<NVRTC, NVRTCError> {
        var tried: [String] = []
        for path in candidates {
            do {
                return .success(try NVRTC(library: path))
            } catch let NVRTCError.libraryNotFound(attempt) {
                tried += attempt
            } catch let error as NVRTCError {
                tried.append("\(path) (\(error))")
            } catch {
                tried.append("\(path) (\(error))")
            }
        }
        return .failure(.libraryNotFound(tried: tried))
    }

    // MARK: Compiling

    /// NVRTC's version, e.g. (12, 9).
    public func version() throws -> (major: Int, minor: Int) {
        var major: Int32 = 0, minor: Int32 = 0
        try check(nvrtcVersion(&major, &minor), "nvrtcVersion")
        return (Int(major), Int(minor))
    }

    /// Options every ntrain kernel compiles with for `architecture` (default `compute_75`, the oldest
    /// NVRTC 12.9 accepts without a deprecation warning; a device uses its own, e.g. `compute_90`).
    /// FMA contraction is off so results round like the CPU kernels' separate multiplies and adds.
    public static func defaultOptions(architecture: String = "compute_75") -> [String] {
        ["--gpu-architecture=\(architecture)", "--fmad=false", "--std=c++14"]
    }

    /// PTX for `source`, compiled once per (source, options) in this process.
    /// - Throws: `NVRTCError.compileFailed` with NVRTC's log when the source does not compile.
    public func compile(_ source: String, name: String, options: [String] = NVRTC.defaultOptions()) throws -> String {
        let key = CacheKey(source: source, options: options)
        cacheLock.lock()
        if let ptx = cache[key] {
            cacheLock.unlock()
            return ptx
        }
        cacheLock.unlock()
        let ptx = try compileUncached(source, name: name, options: options)
        cacheLock.lock()
        cache[key] = ptx
        cacheLock.unlock()
        return ptx
    }

    /// How many distinct (source, options) pairs have been compiled.
    public var cachedProgramCount: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return cache.count
    }

    private func compileUncached(_ source: String, name: String, options: [String]) throws -> String {
        var program: OpaquePointer?
        try check(nvrtcCreateProgram(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = nvrtcDestroyProgram(&program) }
        let cOptions: [UnsafeMutablePointer<CChar>] = options.map { strdup($0)! }
        defer { cOptions.forEach { Foundation.free($0) } }
        let optionPointers: [UnsafePointer<CChar>?] = cOptions.map { UnsafePointer($0) }
        let status = optionPointers.withUnsafeBufferPointer {
            nvrtcCompileProgram(program, Int32(options.count), $0.baseAddress)
        }
        if status != 0 {
            let log = (try? text(program, nvrtcGetProgramLogSize, nvrtcGetProgramLog, "nvrtcGetProgramLog")) ?? ""
            throw NVRTCError.compileFailed(program: name, options: options,
                                           log: log.isEmpty ? errorString(status) : log)
        }
        return try text(program, nvrtcGetPTXSize, nvrtcGetPTX, "nvrtcGetPTX")
    }

    /// A NUL-terminated string NVRTC writes into a buffer of the size it reports.
    private func text(_ program: OpaquePointer?, _ size: SizeFn, _ get: TextFn, _ call: String) throws -> String {
        var n = 0
        try check(size(program, &n), call + "Size")
        var buffer = [CChar](repeating: 0, count: n + 1)
        try check(get(program, &buffer), call)
        return String(cString: buffer)
    }

    private func errorString(_ code: Int32) -> String {
        nvrtcGetErrorString(code).map { String(cString: $0) } ?? "NVRTC_ERROR_\(code)"
    }

    private func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        throw NVRTCError.callFailed(call: call, code: code, message: errorString(code))
    }
}
