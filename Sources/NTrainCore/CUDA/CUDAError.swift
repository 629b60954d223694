import Foundation

/// Why the CUDA backend cannot do what was asked. Every case names what failed and how to fix it,
/// because these messages reach users through `ntrain devices` and `--device gpu*`.
public enum CUDAError: Error, CustomStringConvertible, Equatable {
    /// The driver library could not be loaded (`dlopen` failed); `detail` is `dlerror()`'s text.
    case noDriver(library: String, detail: String)
    /// The library loaded but lacks an entry point (not a CUDA driver, or one too old).
    case symbolMissing(library: String, symbol: String)
    /// The driver works but reports no CUDA device (or `cuInit` says there is none).
    case noDevice(detail: String)
    /// A device index past the last device.
    case indexOutOfRange(asked: Int, count: Int)
    /// A device allocation failed even after the caching allocator released its cache.
    case outOfMemory(requestedBytes: Int, freeBytes: Int?, device: Int)
    /// A driver call returned an error code.
    case driverError(call: String, code: Int32, name: String)

    public var description: String {
        switch self {
        case let .noDriver(library, detail):
            return "no CUDA driver: \(library) could not be loaded (\(detail)); install the NVIDIA driver (it provides libcuda.so.1)"
        case let .symbolMissing(library, symbol):
            return "\(library) is not a usable CUDA driver: it lacks \(symbol) (driver too old or not the NVIDIA driver library); update the NVIDIA driver"
        case let .noDevice(detail):
            return "no CUDA device: \(detail); check nvidia-smi and CUDA_VISIBLE_DEVICES"
        case let .indexOutOfRange(asked, count):
            return count == 0
                ? "GPU \(asked) does not exist: no CUDA device found"
                : "GPU \(asked) does not exist: \(count) CUDA device(s) found (gpu0…gpu\(count - 1))"
        case let .outOfMemory(requested, free, device):
            let freeText = free.map { ", \(CUDAError.formatBytes($0)) free" } ?? ""
            return "out of GPU memory on gpu\(device): asked for \(CUDAError.formatBytes(requested)) (\(requested) bytes)\(freeText); reduce the batch size or the model"
        case let .driverError(call, code, name):
            return "CUDA driver call \(call) failed with \(name) (\(code))"
        }
    }

    /// Bytes as a short human-readable size (binary units).
    static func formatBytes(_ n: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) bytes" : String(format: "%.1f", v) + " " + units[u]
    }
}
