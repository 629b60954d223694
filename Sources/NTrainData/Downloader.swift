import Foundation

/// What the downloader is doing, for progress display (a bar on a terminal, lines otherwise).
public enum DownloadEvent: Equatable, Sendable {
    /// A verified copy was already in place; nothing was fetched.
    case alreadyPresent(file: String)
    /// A transfer began (`resumingAt` > 0 when a partial file is being continued).
    case started(file: String, source: String, resumingAt: Int64, total: Int64?)
    /// Bytes of the file now on disk.
    case progress(file: String, bytes: Int64, total: Int64?)
    /// A transient failure; the same source is tried again after `delay` seconds.
    case retrying(file: String, source: String, attempt: Int, delay: Double, reason: String)
    /// This source failed for good; the next one is tried.
    case sourceFailed(file: String, source: String, reason: String)
    /// The file passed verification (`how`: "md5", "content md5" or "validated") and is in place.
    case verified(file: String, how: String)
    /// A member was extracted from an archive and verified.
    case extracted(file: String, archive: String)
}

/// Retries with exponential back-off for transient failures (dropped connections, 5xx).
public struct RetryPolicy: Sendable {
    /// Tries per source, including the first.
    public var attempts: Int
    public var initialDelay: Double
    public var multiplier: Double
    public var maxDelay: Double

    public init(attempts: Int = 4, initialDelay: Double = 1, multiplier: Double = 2, maxDelay: Double = 30) {
        self.attempts = max(1, attempts)
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
    }

    /// The pause before try number `attempt + 1` (attempt counts from 1).
    public func delay(after attempt: Int) -> Double {
        min(maxDelay, initialDelay * pow(multiplier, Double(attempt - 1)))
    }
}

/// How a file passed the checksum table.
public enum Verification: Equatable {
    case archiveMD5, contentMD5, mismatch(String)
}

/// Fetches single files into a folder: `NAME.part` first, resumed across tries, verified, then
/// atomically renamed to `NAME`. A file that fails verification never appears under `NAME`, and an
/// existing good `NAME` is only ever replaced by a verified one.
public final class Downloader {
    public var retry: RetryPolicy
    /// Idle timeout for HTTP requests, in seconds.
    public var timeout: TimeInterval
    public var progress: (DownloadEvent) -> Void

    public init(retry: RetryPolicy = RetryPolicy(), timeout: TimeInterval = 60, progress: @escaping (DownloadEvent) -> Void = { _ in }) {
        self.retry = retry
        self.timeout = timeout
        self.progress = progress
    }

    /// Checks a file against its known md5s: the published md5 of the file itself or, for gzip
    /// files, the md5 of its decompressed content.
    public static func verify(path: String, against file: KnownFile) throws -> Verification {
        let md5 = try MD5Hasher.hex(ofFile: path)
        if md5 == file.md5 { return .archiveMD5 }
        if let content = file.contentMD5, let got = try? MD5Hasher.hex(ofGunzippedFile: path), got == content {
            return .contentMD5
        }
        return .mismatch(md5)
    }

    /// Puts a verified copy of `file` at `folder/file.name`, trying `locations` (full URLs to the
    /// file: http, https or file) in order. `validate`, when given, replaces the md5 check (for
    /// files without a published checksum) and must throw for bad content.
    /// - Returns: the location the file came from, or nil when a verified copy was already there.
    @discardableResult
    public func fetch(_ file: KnownFile, into folder: URL, from locations: [URL], force: Bool = false,
                      validate: ((String) throws -> Void)? = nil) throws -> URL? {
        let fm = FileManager.default
        do { try fm.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw DownloadError.io(path: folder.path, reason: "cannot create folder: \(error.localizedDescription)")
        }
        let finalPath = folder.appendingPathComponent(file.name).path
        let partPath = finalPath + ".part"
        if !force, fm.fileExists(atPath: finalPath), (try? check(finalPath, file, validate)) != nil {
            progress(.alreadyPresent(file: file.name))
            return nil
        }
        if force { try? fm.removeItem(atPath: partPath) }  // --force never trusts old partial bytes
        var failures: [String] = []
        for location in locations {
            do {
                let how = try fetchOne(file, from: location, partPath: partPath, validate: validate)
                if rename(partPath, finalPath) != 0 {
                    throw DownloadError.io(path: finalPath, reason: "cannot move the verified file into place: \(String(cString: strerror(errno)))")
                }
                progress(.verified(file: file.name, how: how))
                return location
            } catch let error as DownloadError {
                if case .io = error { throw error }
                failures.append(error.description)
                progress(.sourceFailed(file: file.name, source: Self.display(location), reason: error.description))
            }
        }
        // An empty part file holds nothing to resume from: leave no trace of the failed try.
        if ((try? fm.attributesOfItem(atPath: partPath))?[.size] as? NSNumber)?.intValue == 0 { try? fm.removeItem(atPath: partPath) }
        throw DownloadError.allSourcesFailed(file: file.name, attempts: failures)
    }

    /// Verifies (or validates) a file; returns how, or throws a checksum mismatch.
    private func check(_ path: String, _ file: KnownFile, _ validate: ((String) throws -> Void)?) throws -> String {
        if let validate = validate {
            do { try validate(path) } catch {
                throw DownloadError.checksumMismatch(file: file.name, source: path, got: "invalid content: \(error)", expected: ["valid content"])
            }
            return "validated"
        }
        switch try Self.verify(path: path, against: file) {
        case .archiveMD5: return "md5"
        case .contentMD5: return "content md5"
        case .mismatch(let got):
            throw DownloadError.checksumMismatch(file: file.name, source: path, got: got, expected: [file.md5] + (file.contentMD5.map { ["content \($0)"] } ?? []))
        }
    }

    /// One location, with retries; leaves a verified `partPath` or throws.
    private func fetchOne(_ file: KnownFile, from location: URL, partPath: String,
                          validate: ((String) throws -> Void)?) throws -> String {
        let source = Self.display(location)
        var attempt = 1
        var restartedClean = false
        while true {
            let outcome: TransferOutcome
            if location.isFileURL {
                outcome = copyLocal(location.path, to: partPath, file: file, source: source)
            } else {
                let attributes = try? FileManager.default.attributesOfItem(atPath: partPath)
                let resumeAt = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
                progress(.started(file: file.name, source: source, resumingAt: resumeAt, total: file.size))
                let name = file.name
                outcome = HTTPTransfer(url: location, partPath: partPath, timeout: timeout) { [progress] bytes, total in
                    progress(.progress(file: name, bytes: bytes, total: total))
                }.run()
            }
            var transient: String?
            switch outcome {
            case .complete, .rangeNotSatisfiable:
                do {
                    return try check(partPath, file, validate)
                } catch let DownloadError.checksumMismatch(name, _, got, expected) {
                    try? FileManager.default.removeItem(atPath: partPath)
                    // A resumed file may have spliced stale bytes: one clean restart from this source.
                    if !location.isFileURL && !restartedClean {
                        restartedClean = true
                        progress(.retrying(file: name, source: source, attempt: attempt, delay: 0,
                                           reason: "checksum mismatch (md5 \(got)); restarting from zero"))
                        continue
                    } else {
                        throw DownloadError.checksumMismatch(file: name, source: source, got: got, expected: expected)
                    }
                }
            case .notFound:
                throw DownloadError.notFound(file: file.name, source: source)
            case .badStatus(let status) where status < 500:
                throw DownloadError.httpStatus(file: file.name, source: source, status: status)
            case .badStatus(let status):
                transient = "HTTP \(status)"
            case .localWrite(let reason):
                try? FileManager.default.removeItem(atPath: partPath)
                throw DownloadError.io(path: partPath, reason: reason + "; free some disk space (or choose another --root) and run the command again")
            case .failed(let reason):
                if location.isFileURL { throw DownloadError.transfer(file: file.name, source: source, reason: reason) }
                transient = reason
            }
            guard attempt < retry.attempts, let reason = transient else {
                throw DownloadError.transfer(file: file.name, source: source, reason: (transient ?? "failed") + " (gave up after \(attempt) tries)")
            }
            let delay = retry.delay(after: attempt)
            progress(.retrying(file: file.name, source: source, attempt: attempt + 1, delay: delay, reason: reason))
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            attempt += 1
        }
    }

    /// Copies a local file into the part file (no resume needed for a local copy).
    private func copyLocal(_ path: String, to partPath: String, file: KnownFile, source: String) -> TransferOutcome {
        guard FileManager.default.fileExists(atPath: path) else { return .notFound(status: 0) }
        progress(.started(file: file.name, source: source, resumingAt: 0, total: file.size))
        let out = open(partPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard out >= 0 else { return .localWrite("cannot create \(partPath): \(String(cString: strerror(errno)))") }
        defer { close(out) }
        var copied: Int64 = 0
        do {
            try FileChunks.forEach(path: path, chunk: 4 << 20) { chunk in
                var done = 0
                while done < chunk.count {
                    let n = write(out, chunk.baseAddress! + done, chunk.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DatasetError.io(path: partPath, reason: "write failed: \(String(cString: strerror(errno)))")
                    }
                    done += n
                }
                copied += Int64(chunk.count)
                progress(.progress(file: file.name, bytes: copied, total: file.size))
            }
        } catch let DatasetError.io(_, reason) {
            return .localWrite("\(partPath): \(reason)")
        } catch {
            return .failed("\(error)")
        }
        return .complete
    }

    /// A location as shown to the user (file URLs as plain paths).
    static func display(_ url: URL) -> String { url.isFileURL ? url.path : url.absoluteString }
}
