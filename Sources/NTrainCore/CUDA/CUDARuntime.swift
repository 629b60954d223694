import Foundation

/// The process's GPUs for tensor ops: one `CUDAContext` per device, opened at first use, and the
/// first error of any GPU op since the last `check()`.
///
/// Tensor ops cannot throw, so a GPU op that fails (out of memory, a launch or driver error, an op
/// with no GPU kernel yet) records its error here and returns a tensor of the right shape whose
/// contents are undefined; every later GPU op is skipped until the error is taken. The trainer
/// calls `check()` after each step, so the user gets the first error, typed and with its cause,
/// instead of a crash.
public enum CUDARuntime {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed: CUDADriver?
    nonisolated(unsafe) private static var contexts: [Int: CUDAContext] = [:]
    nonisolated(unsafe) private static var firstError: Error?

    /// Runs GPU tensors on `driver` instead of the system's libcuda (the CUDA host emulator in
    /// tests); nil goes back to the system's. Closes the contexts opened so far.
    public static func use(driver: CUDADriver?) {
        lock.lock()
        defer { lock.unlock() }
        installed = driver
        // Give the closed contexts' cached blocks back (live tensors keep theirs).
        for c in contexts.values { try? c.allocator.emptyCache() }
        contexts.removeAll()
        firstError = nil
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

    /// Whether a GPU op has failed since the last `check()`.
    public static var hasError: Bool {
        lock.lock()
        defer { lock.unlock() }
        return firstError != nil
    }

    /// Keeps the first error only: later ones are usually its consequences.
    public static func record(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if firstError == nil { firstError = error }
    }

    /// Waits for every open GPU's queued work and throws the first error since the last check
    /// (then clears it).
    public static func check() throws {
        lock.lock()
        let open = Array(contexts.values)
        lock.unlock()
        for c in open {
            do { try c.synchronize() } catch { record(error) }
        }
        lock.lock()
        defer { lock.unlock() }
        if let e = firstError {
            firstError = nil
            throw e
        }
    }

    /// The context for a GPU op on `device`, or nil (error recorded) when ops must be skipped.
    static func opContext(_ device: Device) -> CUDAContext? {
        guard case .gpu(let index) = device else { fatalError("CUDA op on \(device)") }  // kept under -Ounchecked
        if hasError { return nil }
        do {
            let c = try context(index)
            try c.makeCurrent()
            return c
        } catch {
            record(error)
            return nil
        }
    }

    /// Device storage for a new GPU tensor; on failure the error is recorded and the storage has
    /// no memory (no kernel runs until the error is taken).
    static func storage(byteCount: Int, device: Device) -> Storage {
        guard let c = opContext(device) else { return Storage(cuda: nil, byteCount: byteCount, device: device) }
        do {
            return Storage(cuda: try c.allocator.allocate(byteCount: byteCount), byteCount: byteCount, device: device)
        } catch {
            record(error)
            return Storage(cuda: nil, byteCount: byteCount, device: device)
        }
    }
}

/// An op that has no GPU kernel yet, reported through `CUDARuntime.check()`.
public struct CUDAUnsupportedOp: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let device: Device
    public var description: String {
        "\(op) has no GPU kernel yet, so it cannot run on \(device); train this model with --device cpux (docs/gpu.md lists what runs on a GPU)"
    }
}
