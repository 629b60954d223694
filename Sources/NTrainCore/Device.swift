import Foundation

/// A concrete device that tensors live on.
public enum Device: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case gpu(Int)

    public var description: String {
        switch self {
        case .cpu: return "cpu0"
        case .gpu(let i): return "gpu\(i)"
        }
    }
}

/// What a user asked for, in MegEngine's grammar `^([cxg]pu)(\d+|x)$`: `cpux`, `cpu0`, `gpux`,
/// `gpu1`, `xpux` (a GPU when one is usable, else the CPU).
public struct DeviceSpec: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case cpu = "c", gpu = "g", any = "x" }
    public let kind: Kind
    /// nil for `x` (the default device of that kind).
    public let index: Int?

    public init(kind: Kind, index: Int?) {
        self.kind = kind
        self.index = index
    }

    /// Parses a device string; throws `DeviceError.invalid` listing the valid forms.
    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard s.count >= 4, s.dropFirst().hasPrefix("pu"), let kind = Kind(rawValue: String(s.prefix(1))) else {
            throw DeviceError.invalid(text)
        }
        let suffix = s.dropFirst(3)
        if suffix == "x" {
            self.init(kind: kind, index: nil)
        } else if !suffix.isEmpty, suffix.allSatisfy(\.isASCII), suffix.allSatisfy(\.isNumber), let i = Int(suffix), i < 1 << 20 {
            self.init(kind: kind, index: i)
        } else {
            throw DeviceError.invalid(text)
        }
    }

    public var description: String { "\(kind.rawValue)pu\(index.map(String.init) ?? "x")" }

    /// The concrete device: CPU, or a GPU when CUDA is usable. `gpu*` never falls back silently.
    public func resolve(cuda: CUDAAvailability = .probe()) throws -> Device {
        switch kind {
        case .cpu:
            return .cpu
        case .gpu:
            switch cuda {
            case .unavailable(let reason): throw DeviceError.gpuUnavailable(requested: description, reason: reason)
            case .available(let count):
                let i = index ?? 0
                guard i < count else { throw DeviceError.indexOutOfRange(requested: description, count: count) }
                return .gpu(i)
            }
        case .any:
            if case .available(let count) = cuda, count > (index ?? 0) { return .gpu(index ?? 0) }
            return .cpu
        }
    }

    /// Device precedence (DESIGN §4): flag > config > `MGE_DEFAULT_DEVICE` > `xpux`.
    public static func select(flag: String?, config: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DeviceSpec {
        if let flag { return try DeviceSpec(parsing: flag) }
        if let config { return try DeviceSpec(parsing: config) }
        if let env = environment["MGE_DEFAULT_DEVICE"], !env.isEmpty { return try DeviceSpec(parsing: env) }
        return DeviceSpec(kind: .any, index: nil)
    }
}

/// Whether a CUDA device can be used, and if not, why.
public enum CUDAAvailability: Equatable, Sendable {
    case available(deviceCount: Int)
    case unavailable(String)

    /// Looks for the CUDA driver at run time (`dlopen` of `libcuda.so.1`), so the binary runs where none exists.
    public static func probe() -> CUDAAvailability { probe(driverLibrary: CUDADriver.defaultLibrary) }

    /// `probe()` with the driver library's path or name given (tests load a missing or wrong library).
    /// GPUs are usable only when a test kernel runs on GPU 0: NVRTC must load and compile it, the
    /// driver must load its PTX and launch it, and the value must come back. Otherwise they are
    /// reported unusable with the reason (so `gpux` fails up front and `xpux` means the CPU),
    /// instead of failing at the first training step.
    public static func probe(driverLibrary: String) -> CUDAAvailability {
        switch CUDADeviceInfo.list(driverLibrary: driverLibrary) {
        case .failure(let error):
            return .unavailable(error.description)
        case .success(let devices):
            let found = availability(of: devices)
            guard case .available = found else { return found }
            do {
                _ = try NVRTC.shared()
            } catch {
                return .unavailable("found \(devices.count) CUDA device(s), but \(error)")
            }
            do {
                let context = driverLibrary == CUDADriver.defaultLibrary
                    ? try CUDARuntime.context(0) : try CUDAContext(device: 0, driver: try CUDADriver(library: driverLibrary))
                try smokeTest(context)
            } catch {
                return .unavailable("found \(devices.count) CUDA device(s), but a test kernel did not run on gpu0: \(error)")
            }
            return found
        }
    }

    /// Fills 4 floats on the device with a kernel and reads them back.
    static func smokeTest(_ context: CUDAContext) throws {
        try context.makeCurrent()
        let buffer = try context.zeros(4)
        try context.launch("fill_f32", elements: 4, arguments: CUDAKernelArguments().buffer(buffer).int64(4).float(2.5))
        let values = try context.download(buffer, shape: [4]).scalars
        guard values == [2.5, 2.5, 2.5, 2.5] else {
            throw CUDAError.driverError(call: "test kernel fill_f32", code: -1, name: "wrong result \(values)")
        }
    }

    /// The availability for GPUs the driver listed.
    public static func availability(of devices: [CUDADeviceInfo]) -> CUDAAvailability {
        guard !devices.isEmpty else { return .unavailable(CUDAError.noDevice(detail: "the driver reports 0 devices").description) }
        return .available(deviceCount: devices.count)
    }
}

/// Errors from parsing or resolving a device string.
public enum DeviceError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case gpuUnavailable(requested: String, reason: String)
    case indexOutOfRange(requested: String, count: Int)

    public var description: String {
        switch self {
        case .invalid(let s):
            return "invalid device '\(s)': expected cpux, cpuN, gpux, gpuN or xpux (N = 0, 1, …), as in MegEngine"
        case .gpuUnavailable(let r, let reason):
            return "device \(r) is not usable: \(reason). Use --device cpux (or xpux to fall back to the CPU)"
        case .indexOutOfRange(let r, let count):
            return "device \(r) does not exist: \(count) GPU(s) found (gpu0…gpu\(count - 1))"
        }
    }
}
