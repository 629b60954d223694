import NTrainCPU
import Foundation
import NTrainCore

/// What `ntrain devices` reports: the CPU and its BLAS, whether CUDA is usable and why not, what
/// `xpux` resolves to, and the default device from `MGE_DEFAULT_DEVICE` (DESIGN §4).
public struct DeviceReport: Equatable, Sendable {
    public struct CPU: Equatable, Sendable {
        /// `model name` from /proc/cpuinfo; nil where it is not available.
        public var modelName: String?
        /// Machine architecture (`uname -m`), e.g. x86_64.
        public var architecture: String
        /// Logical CPUs in the machine.
        public var logicalCores: Int
        /// Logical CPUs this process may use (affinity, cgroup limits).
        public var activeCores: Int
        /// Threads ntrain's kernels use.
        public var threads: Int
        /// Where `threads` comes from: `NTRAIN_THREADS` or the active core count.
        public var threadsSource: String
        /// The instruction-set features found (CPUID/XCR0, or AArch64's hardware capabilities).
        public var features: [String] = []
        public var blas: BLAS
        /// What the engine's kernels were compiled for (Package.swift: Haswell-class x86-64 when
        /// the build machine has AVX2 and FMA, else the baseline of the architecture).
        public var engineTarget: String = DeviceReport.engineTarget
    }

    /// `CPU.engineTarget` of this build.
    public static var engineTarget: String {
        let features = EngineCPU.requiredFeatures
        return features.isEmpty ? "portable (baseline instruction set)"
            : "Haswell-class x86-64 (\(features.joined(separator: ", ")))"
    }

    /// The BLAS library (always OpenBLAS), the kernels it runs and why.
    public struct BLAS: Equatable, Sendable {
        public var name: String
        /// `openblas_get_config()`: version and build options.
        public var config: String?
        /// `openblas_get_corename()`: the kernel set in use.
        public var core: String?
        /// The core type ntrain requested (nil: OpenBLAS's own detection) and why.
        public var requested: String? = nil
        public var reason: String? = nil
        /// "passed", or what the GEMM self-check found wrong.
        public var selfCheck: String? = nil
        /// Why ntrain fell back to OpenBLAS's own detection, or why OpenBLAS ignored the request.
        public var note: String? = nil
        /// Measured GFLOP/s of one 512³ product on one thread.
        public var gflops512: Double? = nil
        /// Why OpenBLAS could not be loaded (nil when loaded).
        public var loadError: String? = nil

        public init(name: String, config: String? = nil, core: String? = nil) {
            self.name = name
            self.config = config
            self.core = core
        }

        /// The BLAS this process loaded, with a measured 512³ GEMM rate when `measure` is true.
        public static func current(measure: Bool) -> BLAS {
            guard let status = NTrainCore.BLAS.status else {
                var blas = BLAS(name: "OpenBLAS")
                blas.loadError = NTrainCore.BLAS.loadError?.description ?? "not loaded"
                return blas
            }
            var blas = BLAS(name: "OpenBLAS", config: status.config, core: status.core)
            blas.requested = status.choice.core
            blas.reason = status.choice.reason
            blas.selfCheck = status.selfCheckFailure.map { "failed: \($0)" } ?? "passed"
            blas.note = status.fallback ?? status.requestIgnored
            if measure { blas.gflops512 = NTrainCore.BLAS.measureGFLOPS(n: 512) }
            return blas
        }
    }

    /// The MPI library data-parallel training would use, and this process's place in a launch.
    public struct MPI: Equatable, Sendable {
        /// The library that loads (nil when none does).
        public var library: String?
        public var version: String?
        /// Why none loads.
        public var problem: String?
        /// The world size a launcher gave this process (1 outside mpirun) and its rank.
        public var worldSize: Int
        public var rank: Int

        public init(library: String? = nil, version: String? = nil, problem: String? = nil, worldSize: Int = 1, rank: Int = 0) {
            self.library = library
            self.version = version
            self.problem = problem
            self.worldSize = worldSize
            self.rank = rank
        }

        /// What this machine offers, without initialising MPI.
        public static func current(environment: [String: String]) -> MPI {
            let probe = ProcessGroups.probe(environment: environment)
            let launch = LaunchEnvironment(environment)
            return MPI(library: probe.library, version: probe.version, problem: probe.problem,
                       worldSize: launch.worldSize, rank: launch.rank)
        }
    }

    public var cpu: CPU
    public var cuda: CUDAAvailability
    public var mpi = MPI()
    /// GPUs the CUDA driver reports (name, memory, compute capability), usable for training or not.
    public var gpus: [CUDADeviceInfo] = []
    /// The concrete device `xpux` means here, and why.
    public var xpux: Device
    public var xpuxReason: String
    /// The raw `MGE_DEFAULT_DEVICE` value (nil when unset or empty).
    public var environmentDevice: String?
    /// The device used when neither `--device` nor the config names one.
    public var defaultSpec: DeviceSpec
    /// `defaultSpec` resolved; a `DeviceError` when it names an unusable GPU.
    public var defaultDevice: Result<Device, DeviceError>

    /// Builds the report from explicit inputs (testable); see `current()`.
    /// - Throws: `DeviceReportError.invalidDefaultDevice` when `MGE_DEFAULT_DEVICE` is not a device string.
    public init(cpu: CPU, cuda: CUDAAvailability, environment: [String: String]) throws {
        self.cpu = cpu
        self.cuda = cuda
        let any = DeviceSpec(kind: .any, index: nil)
        xpux = (try? any.resolve(cuda: cuda)) ?? .cpu
        switch (cuda, xpux) {
        case (.available(let n), .gpu): xpuxReason = "CUDA is usable with \(n) device(s)"
        case (.available, .cpu): xpuxReason = "CUDA reports no device 0"
        case (.unavailable(let reason), _): xpuxReason = "no usable CUDA device: \(reason)"
        }
        let raw = environment["MGE_DEFAULT_DEVICE"].flatMap { $0.isEmpty ? nil : $0 }
        environmentDevice = raw
        do {
            defaultSpec = try DeviceSpec.select(flag: nil, config: nil, environment: environment)
        } catch let error as DeviceError {
            throw DeviceReportError.invalidDefaultDevice(value: raw ?? "", error: error)
        }
        do {
            defaultDevice = .success(try defaultSpec.resolve(cuda: cuda))
        } catch let error as DeviceError {
            defaultDevice = .failure(error)
        }
    }

    /// The report for this machine and process.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DeviceReport {
        var report = try DeviceReport(cpu: currentCPU(environment: environment), cuda: CUDAAvailability.probe(), environment: environment)
        if case .success(let gpus) = CUDADeviceInfo.list() { report.gpus = gpus }
        report.mpi = MPI.current(environment: environment)
        return report
    }

    /// The CPU, its core counts, ntrain's thread count and OpenBLAS's build.
    public static func currentCPU(environment: [String: String] = ProcessInfo.processInfo.environment) -> CPU {
        let info = ProcessInfo.processInfo
        let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let threadsVariable = environment["NTRAIN_THREADS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        return CPU(
            modelName: cpuinfo.flatMap(cpuModelName(inCPUInfo:)) ?? CPUFeatures.current.brand,
            architecture: machineArchitecture(),
            logicalCores: info.processorCount,
            activeCores: info.activeProcessorCount,
            threads: Parallel.threadCount,
            threadsSource: threadsVariable != nil ? "NTRAIN_THREADS" : "active cores (set NTRAIN_THREADS to change)",
            features: CPUFeatures.current.orderedFlags,
            blas: .current(measure: true))
    }

    /// The first `model name` (x86) or `Model`/`Hardware` (ARM) value of /proc/cpuinfo text.
    public static func cpuModelName(inCPUInfo text: String) -> String? {
        for key in ["model name", "Model", "Hardware", "cpu model"] {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                // Collapse runs of spaces that some vendors pad the brand string with.
                let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                if !collapsed.isEmpty { return collapsed }
            }
        }
        return nil
    }

    private static func machineArchitecture() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// Devices usable now: `cpu0`, then `gpu0`… when CUDA is usable.
    public var usableDevices: [Device] {
        var devices: [Device] = [.cpu]
        if case .available(let n) = cuda { devices += (0..<n).map(Device.gpu) }
        return devices
    }
}

/// Why `ntrain devices` (or any command resolving the default device) cannot start.
public enum DeviceReportError: Error, Equatable, CustomStringConvertible {
    case invalidDefaultDevice(value: String, error: DeviceError)

    public var description: String {
        switch self {
        case .invalidDefaultDevice(let value, let error):
            return "MGE_DEFAULT_DEVICE=\(value): \(error); fix or unset the environment variable (e.g. export MGE_DEFAULT_DEVICE=cpux)"
        }
    }
}
