import Foundation

/// Problems found while setting up or running an experiment that are not config syntax errors.
public enum EngineError: Error, CustomStringConvertible {
    /// The data section cannot be satisfied (exit 2).
    case invalidData(String)
    /// The model does not fit the data or its options are wrong (exit 2).
    case invalidModel(String)
    /// A checkpoint cannot be used for what was asked (exit 2).
    case unusableCheckpoint(path: String, reason: String)
    /// A loss or gradient became NaN/Inf under nan_policy "stop" (exit 1).
    case nonFinite(epoch: Int, step: Int, what: String, checkpoint: String?)
    /// Writing run files failed (exit 1).
    case io(String)
    /// The GPU could not run the experiment: an op or optimizer without a GPU kernel (exit 2), or
    /// a driver error or out of device memory (exit 1).
    case gpu(device: String, reason: String, unsupported: Bool)

    public var description: String {
        switch self {
        case .invalidData(let m): return "data: \(m)"
        case .invalidModel(let m): return "model: \(m)"
        case let .unusableCheckpoint(path, reason): return "\(path): \(reason)"
        case let .nonFinite(epoch, step, what, checkpoint):
            return "training stopped: the \(what) became NaN/Inf at epoch \(epoch), step \(step); the step was not applied"
                + (checkpoint.map { ". The last good checkpoint is \($0)" } ?? "")
                + ". Lower optimizer.lr, add train.grad_clip, or set train.nan_policy to \"skip\"."
        case .io(let m): return m
        case let .gpu(device, reason, unsupported):
            return "training on \(device) failed: \(reason)" + (unsupported ? "" : ". To train on the CPU instead, use --device cpux")
        }
    }

    /// Exit status per DESIGN §1: 2 for bad input, 1 for runtime failures.
    public var exitCode: Int32 {
        switch self {
        case .invalidData, .invalidModel, .unusableCheckpoint: return 2
        case .nonFinite, .io: return 1
        case .gpu(_, _, let unsupported): return unsupported ? 2 : 1
        }
    }
}
