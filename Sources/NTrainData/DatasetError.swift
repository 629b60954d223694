import Foundation

/// Everything that can be wrong with a dataset file, an archive or a data configuration.
/// Messages name the file, say what is wrong and, where there is one, how to fix it.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// A file the dataset needs is not there.
    case missingFile(path: String, hint: String)
    /// A file could not be read or written.
    case io(path: String, reason: String)
    /// An IDX file (MNIST format) is malformed.
    case invalidIDX(path: String, reason: String)
    /// A CIFAR-10 binary batch is malformed.
    case invalidCIFAR(path: String, reason: String)
    /// A gzip stream is corrupt or truncated.
    case invalidGzip(path: String, reason: String)
    /// A tar archive is corrupt or holds something unsafe (path traversal, links).
    case invalidTar(path: String, reason: String)
    /// An image file (PNG, PGM) cannot be decoded or is of an unsupported kind.
    case invalidImage(path: String, reason: String)
    /// A CSV list of images is malformed.
    case invalidCSV(path: String, line: Int, reason: String)
    /// Images and labels disagree (counts, shapes, label range).
    case inconsistent(path: String, reason: String)
    /// A dataset or transform parameter is out of range.
    case invalidParameter(name: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path, hint): return "\(path): file not found. \(hint)"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .invalidIDX(path, reason): return "\(path): not a valid IDX file: \(reason)"
        case let .invalidCIFAR(path, reason): return "\(path): not a valid CIFAR-10 binary batch: \(reason)"
        case let .invalidGzip(path, reason): return "\(path): corrupt gzip data: \(reason)"
        case let .invalidTar(path, reason): return "\(path): rejected tar archive: \(reason)"
        case let .invalidImage(path, reason): return "\(path): cannot decode image: \(reason)"
        case let .invalidCSV(path, line, reason): return "\(path):\(line): \(reason)"
        case let .inconsistent(path, reason): return "\(path): \(reason)"
        case let .invalidParameter(name, reason): return "invalid \(name): \(reason)"
        }
    }
}

/// Why a download failed. Every case names the file and the source that was tried.
public enum DownloadError: Error, CustomStringConvertible, Equatable {
    /// The source does not have the file (HTTP 404/410, or no such local file).
    case notFound(file: String, source: String)
    /// The server answered with an unexpected HTTP status.
    case httpStatus(file: String, source: String, status: Int)
    /// The transfer failed (connection refused or dropped, timeout, local read error).
    case transfer(file: String, source: String, reason: String)
    /// The bytes arrived but match none of the known checksums.
    case checksumMismatch(file: String, source: String, got: String, expected: [String])
    /// No source delivered a good copy; `attempts` lists what each source said.
    case allSourcesFailed(file: String, attempts: [String])
    /// A mirror string that is neither a URL nor a folder.
    case invalidMirror(String)
    /// The file could not be written locally.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(file, source): return "\(file): not found at \(source)"
        case let .httpStatus(file, source, status): return "\(file): \(source) answered HTTP \(status)"
        case let .transfer(file, source, reason): return "\(file): transfer from \(source) failed: \(reason)"
        case let .checksumMismatch(file, source, got, expected):
            return "\(file): checksum mismatch for the copy from \(source): md5 \(got), expected "
                + expected.joined(separator: " or ") + "; the copy was discarded"
        case let .allSourcesFailed(file, attempts):
            return "\(file): no source delivered a verified copy:\n"
                + attempts.map { "  - \($0)" }.joined(separator: "\n")
                + "\n  Fix: pass --mirror URL|DIR holding a copy of the file, or check the network."
        case let .invalidMirror(m): return "invalid mirror '\(m)': use http://, https://, file:// or an existing folder"
        case let .io(path, reason): return "\(path): \(reason)"
        }
    }
}
