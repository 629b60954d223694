/// Why a checkpoint could not be read or written. Every message names the file, where in it
/// (byte offset or tensor), what was expected, and what to do.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, read, written or renamed.
    case io(file: String, operation: String, reason: String)
    /// A real MegEngine (or PyTorch) file: pickle, graph dump or zip archive.
    case foreignFormat(file: String, kind: String)
    /// Not an ntrain checkpoint at all (wrong magic).
    case notACheckpoint(file: String)
    /// A structural problem at a byte offset of the file.
    case malformed(file: String, offset: Int, problem: String)
    /// A problem with one tensor's header entry or data.
    case badTensor(file: String, tensor: String, problem: String)
    /// A stored checksum does not match the bytes.
    case checksumMismatch(file: String, what: String, expected: UInt32, actual: UInt32)
    /// The checkpoint to be written is invalid (duplicate or empty names, GPU tensors, bad metadata).
    case invalidContents(file: String, problem: String)

    public var file: String {
        switch self {
        case .io(let f, _, _), .foreignFormat(let f, _), .notACheckpoint(let f), .malformed(let f, _, _),
            .badTensor(let f, _, _), .checksumMismatch(let f, _, _, _), .invalidContents(let f, _):
            return f
        }
    }

    public var description: String {
        switch self {
        case .io(let file, let operation, let reason):
            return "\(file): cannot \(operation): \(reason)"
        case .foreignFormat(let file, let kind):
            return "\(file): this is \(kind), not an ntrain checkpoint. ntrain reads only its own .mge format "
                + "(magic \"NTRNMGE1\"); export the weights from Python into it, or train with ntrain."
        case .notACheckpoint(let file):
            return "\(file): not an ntrain checkpoint (the file does not start with \"NTRNMGE1\"); "
                + "pass a .mge file written by ntrain (runs/<name>/<time>/checkpoints/*.mge)."
        case .malformed(let file, let offset, let problem):
            return "\(file): byte \(offset): \(problem); the file is damaged or was not written by ntrain "
                + "(use another checkpoint, e.g. last.mge or an earlier epoch)."
        case .badTensor(let file, let tensor, let problem):
            return "\(file): tensor \"\(tensor)\": \(problem); the file is damaged or was not written by ntrain "
                + "(use another checkpoint)."
        case .checksumMismatch(let file, let what, let expected, let actual):
            return "\(file): CRC32 mismatch in \(what) (stored 0x\(hex(expected)), computed 0x\(hex(actual))); "
                + "the file is corrupt or truncated (use another checkpoint, e.g. an earlier epoch)."
        case .invalidContents(let file, let problem):
            return "\(file): cannot write checkpoint: \(problem)"
        }
    }

    private func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
