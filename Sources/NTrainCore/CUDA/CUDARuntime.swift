import Foundation

/// The process's GPUs for tensor ops: one `CUDAContext` per device, opened at first use.
///
/// Tensor ops cannot throw, so a GPU op that fails (out of memory, a launch or driver error, an op
/// with no GPU kernel yet) records its failure on its device's context (`CUDAContext.failure`)
/// and returns a tensor of the right shape whose contents are undefined; every later op on that
/// device is skipped until the failure is thrown by the device's sync point, `synchronize(_:)`
/// (`Backend.synchronize`), named by the op that failed. Other devices are not affected.
public enum CUDARuntime {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed: CUDADriver?
    nonisolated(unsafe) private static var contexts: [Int: CUDAContext] = [:]
    /// Why a device's context could not be opened, for the op that tried (thrown at its sync point).
    nonisolated(unsafe) private static var openFailures: [Int: Error] = [:]

    /// Runs GPU tensors on `driver` instead of the system's libcuda (the CUDA host emulator in
    /// tests); nil goes back to the system's. Closes the contexts opened so far.
    public static func use(driver: CUDADriver?) {
        lock.lock()
        defer { lock.unlock() }
        installed = driver
        // Give the closed contexts' cached blocks back (live tensors keep theirs).
        for c in contexts.values { try? c.allocator.emptyCache() }
        contexts.removeAll()
        openFailures.removeAll()
    }

    /// Whether `use(driver:)` installed a driver (then `CUDAAvailability.probe()` reports its GPUs).
    public static var hasInstalledDriver: Bool {
        lock.lock()
        defer { lock.unlock() }
        return installed != nil
    }

    /// The driver GPU tensors use: the one installed by `use(driver:)`, else the process's
    /// (`CUDADriver.shared()`, which honours NTRAIN_CUDA_DRIVER).
    public static func driver() throws -> CUDADriver {
        lock.lock()
        let chosen = installed
        lock.unlock()
        return try chosen ?? CUDADriver.shared()
    }

    /// The context of GPU `index`, opened on first use.
    public static func context(_ index: Int) throws -> CUDAContext {
        let d = try driver()
        lock.lock()
        defer { lock.unlock() }
        if let c = contexts[index] { return c }
        let c = try CUDAContext(device: index, driver: d)
        contexts[index] = c
        return c
    }

    /// The failure `device`'s next sync point will throw, if an op on it has failed since the last.
    public static func pendingFailure(_ device: Device) -> Error? {
        let index = gpuIndex(device)
        lock.lock()
        let opened = contexts[index], openFailure = openFailures[index]
        lock.unlock()
        return openFailure ?? opened?.failure
    }

    /// Waits for `device`'s queued work and throws the first op that failed on it since the last
    /// sync point (then clears it, so work can go on).
    public static func synchronize(_ device: Device) throws {
        let index = gpuIndex(device)
        lock.lock()
        let opened = contexts[index], openFailure = openFailures.removeValue(forKey: index)
        lock.unlock()
        if let openFailure { throw openFailure }
        guard let opened else { return }
        do { try opened.synchronize() } catch { opened.record(CUDAOpFailure(op: "a queued kernel", device: device, underlying: error)) }
        if let failure = opened.takeFailure() { throw failure }
    }

    /// Records that `op` failed on `device` (the first failure since a sync point is kept: later
    /// ones are usually its consequences).
    static func record(_ error: Error, op: String, device: Device) {
        let failure: Error = error is CUDAUnsupportedOp ? error : CUDAOpFailure(op: op, device: device, underlying: error)
        let index = gpuIndex(device)
        lock.lock()
        let opened = contexts[index]
        if opened == nil, openFailures[index] == nil { openFailures[index] = failure }
        lock.unlock()
        opened?.record(failure)
    }

    /// The context for `op` on `device`, or nil when ops must be skipped (an earlier failure not
    /// yet thrown, or the device cannot be opened: recorded for its sync point).
    static func opContext(_ device: Device, op: String) -> CUDAContext? {
        let index = gpuIndex(device)
        lock.lock()
        let failed = openFailures[index] != nil
        lock.unlock()
        if failed { return nil }
        do {
            let c = try context(index)
            if c.failure != nil { return nil }
            try c.makeCurrent()
            return c
        } catch {
            record(error, op: op, device: device)
            return nil
        }
    }

    /// Device storage for a new GPU tensor; on failure it is recorded and the storage has no
    /// memory (no kernel runs until the failure is thrown).
    static func storage(byteCount: Int, device: Device) -> Storage {
        let op = "allocating a tensor"
        guard let c = opContext(device, op: op) else { return Storage(cuda: nil, byteCount: byteCount, device: device) }
        do {
            return Storage(cuda: try c.allocator.allocate(byteCount: byteCount), byteCount: byteCount, device: device)
        } catch {
            record(error, op: op, device: device)
            return Storage(cuda: nil, byteCount: byteCount, device: device)
        }
    }

    private static func gpuIndex(_ device: Device) -> Int {
        guard case .gpu(let index) = device else { fatalError("CUDA op on \(device)") }  // kept under -Ounchecked
        return index
    }
}

/// A GPU op that failed: which op, on which device, and the driver's (or allocator's) error.
public struct CUDAOpFailure: Error, CustomStringConvertible {
    public let op: String
    public let device: Device
    public let underlying: Error
    public var description: String { "\(op) failed on \(device): \(underlying)" }
}

/// An op that has no GPU kernel yet, thrown at the device's sync point.
public struct CUDAUnsupportedOp: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let device: Device
    public var description: String {
        "\(op) has no GPU kernel yet, so it cannot run on \(device); train this model with --device cpux (docs/gpu.md lists what runs on a GPU)"
    }
}
