/// What `ntrain devices` shows for one GPU.
public struct CUDADeviceInfo: Equatable, Sendable, CustomStringConvertible {
    /// The ordinal used in `gpuN`.
    public var index: Int
    /// The marketing name, e.g. "NVIDIA H100 80GB HBM3".
    public var name: String
    /// Total device memory in bytes.
    public var totalMemory: Int
    /// (major, minor), e.g. (9, 0) for Hopper.
    public var computeCapability: (major: Int, minor: Int)
    /// Streaming multiprocessors (sizes grids for reductions).
    public var multiprocessors: Int

    public init(index: Int, name: String, totalMemory: Int, computeCapability: (major: Int, minor: Int), multiprocessors: Int) {
        self.index = index
        self.name = name
        self.totalMemory = totalMemory
        self.computeCapability = computeCapability
        self.multiprocessors = multiprocessors
    }

    public static func == (a: CUDADeviceInfo, b: CUDADeviceInfo) -> Bool {
        a.index == b.index && a.name == b.name && a.totalMemory == b.totalMemory
            && a.computeCapability == b.computeCapability && a.multiprocessors == b.multiprocessors
    }

    /// NVRTC's virtual architecture for this device, e.g. `compute_90`.
    public var virtualArchitecture: String { "compute_\(computeCapability.major)\(computeCapability.minor)" }

    /// "gpu0  NVIDIA H100 80GB HBM3, 79.1 GiB, compute capability 9.0, 132 SMs".
    public var description: String {
        "gpu\(index)  \(name), \(CUDAError.formatBytes(totalMemory)), compute capability \(computeCapability.major).\(computeCapability.minor), \(multiprocessors) SMs"
    }
}

extension CUDADeviceInfo {
    /// Lists the GPUs of the driver at `library` (loading and initialising it), or why there are none.
    public static func list(driverLibrary library: String = CUDADriver.defaultLibrary) -> Result<[CUDADeviceInfo], CUDAError> {
        do {
            // The default library means the driver GPU tensors use (CUDARuntime's, if one was installed).
            let driver = library == CUDADriver.defaultLibrary ? try CUDARuntime.driver() : try CUDADriver(library: library)
            if library != CUDADriver.defaultLibrary { try driver.initialize() }
            return .success(try driver.devices())
        } catch let error as CUDAError {
            return .failure(error)
        } catch {
            return .failure(.noDriver(library: library, detail: "\(error)"))
        }
    }
}
