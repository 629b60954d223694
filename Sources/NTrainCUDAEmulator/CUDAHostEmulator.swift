import Foundation
import NTrainCore

/// A stand-in `libcuda` that runs ntrain's real CUDA C kernels (`CUDAKernels`) on the CPU, so the
/// kernels' logic and the host code that launches them can be checked on a machine without a GPU.
///
/// The library is built at first use by a C++ compiler (clang++ or g++) from `CUDAKernels.all`
/// compiled as host C++, plus a driver (`runtimeSource`) that `CUDADriver(library:)` loads like
/// the real one. Programs still compile the kernels with NVRTC and load the PTX: the emulator
/// looks each kernel up by its `.entry` name in that PTX, then runs the host-compiled copy.
///
/// What it does not check: anything about the hardware (warp scheduling, real memory limits,
/// PTX/driver compatibility, speed), and the last bits of `expf`/`erff`/`logf`, which come from
/// the host's libm instead of CUDA's. Those remain for a run on a GPU (docs/gpu.md).
public enum CUDAHostEmulator {
    /// Why the emulator could not be built.
    public enum BuildError: Error, CustomStringConvertible, Equatable {
        case noCompiler(tried: [String])
        case compileFailed(compiler: String, log: String)

        public var description: String {
            switch self {
            case .noCompiler(let tried):
                return "no C++ compiler for the CUDA host emulator (tried \(tried.joined(separator: ", "))); "
                    + "install clang or g++, or set NTRAIN_CXX"
            case .compileFailed(let compiler, let log):
                return "\(compiler) could not build the CUDA host emulator:\n\(log)"
            }
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<String, BuildError>?

    /// The path of the emulator library, built once per process (and cached on disk by the hash of
    /// its sources, so later processes reuse it).
    public static func library() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let built { return try built.get() }
        let result = Result { try build() }.mapError { $0 as? BuildError ?? .compileFailed(compiler: "?", log: "\($0)") }
        built = result
        return try result.get()
    }

    /// Sets the emulated machine: device count, memory per device, compute capability and
    /// multiprocessor count (which caps grid-stride grids at 32 blocks per multiprocessor).
    public static func configure(devices: Int = 1, memory: Int = 1 << 30, computeCapability: (Int, Int) = (9, 0),
                                 multiprocessors: Int = 2) throws {
        typealias Configure = @convention(c) (Int32, Int, Int32, Int32, Int32) -> Void
        let f: Configure = try symbol("ntemu_configure")
        f(Int32(devices), memory, Int32(computeCapability.0), Int32(computeCapability.1), Int32(multiprocessors))
    }

    /// Kernel launches accepted so far in this process.
    public static func launchCount() throws -> Int {
        typealias Count = @convention(c) () -> Int
        let f: Count = try symbol("ntemu_launch_count")
        return f()
    }

    /// Device bytes currently allocated.
    public static func bytesInUse() throws -> Int {
        typealias Bytes = @convention(c) () -> Int
        let f: Bytes = try symbol("ntemu_bytes_in_use")
        return f()
    }

    /// A driver over the emulator, initialised (`cuInit`). Units outside `CUDAKernels.all` (a new
    /// `UnaryOp`'s kernels) are host-compiled when a program loads them (`addUnit`).
    public static func driver() throws -> CUDADriver {
        let driver = try CUDADriver(library: try library())
        driver.willLoad = { unit in try addUnit(unit) }
        try driver.initialize()
        return driver
    }

    nonisolated(unsafe) private static var added: Set<String> = []

    /// Makes `unit`'s kernels launchable: a unit of `CUDAKernels.all` is in the library already;
    /// another is compiled as host C++ into a library of its own (cached on disk by its hash,
    /// linked against the emulator's runtime) that the driver searches after its own.
    public static func addUnit(_ unit: CUDAKernelSource) throws {
        if CUDAKernels.all.contains(unit) { return }
        let main = try library()
        lock.lock()
        defer { lock.unlock() }
        let text = deviceHeader + unit.source + launchers(for: unit)
        if added.contains(text) { return }
        let path = try compile([(unit.name.replacingOccurrences(of: ".cu", with: ".cpp"), text)], named: "libntrain-cuda-unit.so",
                               linking: [main])
        typealias Add = @convention(c) (UnsafePointer<CChar>) -> Int32
        let add: Add = try symbol("ntemu_add_library", in: main)
        guard add(path) == 1 else {
            throw BuildError.compileFailed(compiler: path, log: "the emulator could not load \(unit.name)'s kernels: \(String(cString: dlerror()))")
        }
        added.insert(text)
    }

    private static func symbol<T>(_ name: String) throws -> T { try symbol(name, in: try library()) }

    private static func symbol<T>(_ name: String, in path: String) throws -> T {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL), let p = dlsym(handle, name) else {
            throw BuildError.compileFailed(compiler: path, log: "\(name) missing from the built library")
        }
        return unsafeBitCast(p, to: T.self)
    }

    /// The translation units: the driver, then each kernel unit with the device header and launchers.
    static var translationUnits: [(name: String, text: String)] {
        [("runtime.cpp", runtimeSource)] + CUDAKernels.all.map { unit in
            (unit.name.replacingOccurrences(of: ".cu", with: ".cpp"),
             deviceHeader + unit.source + launchers(for: unit))
        }
    }

    static func compilerCandidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var list: [String] = []
        if let chosen = environment["NTRAIN_CXX"], !chosen.isEmpty { list.append(chosen) }
        list += ["/opt/swift/usr/bin/clang++", "/usr/bin/clang++", "/usr/bin/c++", "/usr/bin/g++"]
        return list
    }

    private static func build() throws -> String { try compile(translationUnits, named: "libntrain-cuda-emulator.so", linking: []) }

    /// A shared library of `units` (host C++), built once and cached in a folder named by the
    /// hash of their sources.
    private static func compile(_ units: [(name: String, text: String)], named file: String, linking libraries: [String]) throws -> String {
        let fm = FileManager.default
        // FNV-1a over every source: a changed kernel gets a new library.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in units.map({ $0.name + $0.text }) + libraries { for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 } }
        let dir = fm.temporaryDirectory.appendingPathComponent("ntrain-cuda-emulator-\(String(hash, radix: 16))").path
        let library = dir + "/" + file
        if fm.fileExists(atPath: library) { return library }
        let candidates = compilerCandidates()
        guard let compiler = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) else {
            throw BuildError.noCompiler(tried: candidates)
        }
        // Build in a private folder and rename, so a concurrent build never sees half a library.
        let work = dir + ".build-\(getpid())"
        try? fm.removeItem(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: work) }
        var files: [String] = []
        for unit in units {
            let path = work + "/" + unit.name
            try unit.text.write(toFile: path, atomically: false, encoding: .utf8)
            files.append(path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        // -ffp-contract=off: NVRTC compiles these kernels with --fmad=false.
        process.arguments = ["-x", "c++", "-std=c++14", "-O1", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared",
                             "-U_FORTIFY_SOURCE",  // its longjmp check refuses the fibers' jumps between stacks
                             "-w", "-o", work + "/lib.so"] + files + ["-x", "none"] + libraries + ["-ldl", "-lm"]
        let log = Pipe()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        let output = log.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BuildError.compileFailed(compiler: compiler, log: String(decoding: output.prefix(8000), as: UTF8.self))
        }
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if !fm.fileExists(atPath: library) { try fm.moveItem(atPath: work + "/lib.so", toPath: library) }
        return library
    }
}

extension CUDAHostEmulator {
    private static let emulatedDriver: Result<CUDADriver, Error> = Result {
        try configure()
        return try driver()
    }

    private static var usesRealGPU: Bool { ProcessInfo.processInfo.environment["NTRAIN_GPU_TENSOR_TESTS"] == "real" }

    /// Makes `.gpu(0)` tensors run on the emulator (for tests; pair it with `uninstallForTensors()`,
    /// or `xpux` keeps resolving to the emulated GPU). With NTRAIN_GPU_TENSOR_TESTS=real it leaves
    /// the system's driver in place, so the same tests run on a real GPU (scripts/gpu_check.sh).
    /// Throws why device 0 cannot be opened.
    public static func installForTensors() throws {
        if !usesRealGPU { CUDARuntime.use(driver: try emulatedDriver.get()) }
        _ = try CUDARuntime.context(0)
    }

    /// Goes back to the system's driver for GPU tensors.
    public static func uninstallForTensors() {
        if !usesRealGPU { CUDARuntime.use(driver: nil) }
    }
}
