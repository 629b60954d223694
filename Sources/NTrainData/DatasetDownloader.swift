import Foundation

/// Where `ntrain download` looks and how hard it tries.
public struct DownloadOptions: Sendable {
    /// Mirrors, tried first and in order: http://, https://, file:// URLs or plain folders. Each is a
    /// folder holding the files (directly or in a sub-folder named after the dataset).
    public var mirrors: [String]
    /// Try system copies such as Debian's /usr/share/datasets/fashion-mnist after the mirrors.
    public var useSystemCopies: Bool
    /// Try the official hosts last.
    public var useOfficialHosts: Bool
    /// Fetch again even when a verified copy exists (the old copy stays until the new one verifies).
    public var force: Bool
    public var retry: RetryPolicy
    /// HTTP idle timeout, seconds.
    public var timeout: TimeInterval

    public init(mirrors: [String] = [], useSystemCopies: Bool = true, useOfficialHosts: Bool = true, force: Bool = false,
                retry: RetryPolicy = RetryPolicy(), timeout: TimeInterval = 60) {
        self.mirrors = mirrors
        self.useSystemCopies = useSystemCopies
        self.useOfficialHosts = useOfficialHosts
        self.force = force
        self.retry = retry
        self.timeout = timeout
    }

    /// The mirror list with `NTRAIN_MIRROR` (if set) in front of `mirrors`.
    public static func mirrors(_ mirrors: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let m = environment["NTRAIN_MIRROR"], !m.isEmpty { return [m] + mirrors }
        return mirrors
    }
}

/// Downloads whole datasets into `<root>/<dataset>`: picks sources, fetches and verifies every file
/// and, for CIFAR-10, extracts the expected members of the archive.
public final class DatasetDownloader {
    public let root: URL
    public let options: DownloadOptions
    private let downloader: Downloader
    private let progress: (DownloadEvent) -> Void

    public init(root: URL, options: DownloadOptions = DownloadOptions(), progress: @escaping (DownloadEvent) -> Void = { _ in }) {
        self.root = root
        self.options = options
        self.progress = progress
        self.downloader = Downloader(retry: options.retry, timeout: options.timeout, progress: progress)
    }

    /// A mirror string as a base URL (folders and file:// URLs become file URLs).
    public static func mirrorURL(_ mirror: String) throws -> URL {
        let lower = mirror.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("file://") {
            guard var url = URL(string: mirror), url.host != nil || url.isFileURL else { throw DownloadError.invalidMirror(mirror) }
            if !url.absoluteString.hasSuffix("/") { url = URL(string: url.absoluteString + "/")! }
            return url
        }
        if lower.contains("://") { throw DownloadError.invalidMirror(mirror) }
        var isDir: ObjCBool = false
        let path = (mirror as NSString).expandingTildeInPath
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw DownloadError.invalidMirror(mirror)
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Candidate base folders for `spec`, in the order they are tried.
    public func sourceBases(for spec: DatasetSpec) throws -> [URL] {
        var bases: [URL] = []
        for m in options.mirrors {
            let base = try Self.mirrorURL(m)
            bases += spec.mirrorSubfolders.map { $0.isEmpty ? base : base.appendingPathComponent($0, isDirectory: true) }
        }
        if options.useSystemCopies {
            bases += spec.systemFolders.filter { FileManager.default.fileExists(atPath: $0) }
                .map { URL(fileURLWithPath: $0, isDirectory: true) }
        }
        if options.useOfficialHosts { bases += spec.officialBases }
        return bases
    }

    /// Makes `<root>/<kind>` complete and verified. Throws the first file that no source could supply.
    public func download(_ kind: DatasetKind) throws {
        let spec = kind.spec
        let folder = root.appendingPathComponent(kind.folderName, isDirectory: true)
        let bases = try sourceBases(for: spec)
        if spec.archive == nil {
            for file in spec.files {
                try downloader.fetch(file, into: folder, from: bases.map { $0.appendingPathComponent(file.name) }, force: options.force)
            }
            return
        }
        try downloadArchived(spec, folder: folder, bases: bases)
    }

    /// The archive-or-loose-files dance for CIFAR-10: at each source the archive is tried first, then
    /// the loose files that are still missing.
    private func downloadArchived(_ spec: DatasetSpec, folder: URL, bases: [URL]) throws {
        let metaName = spec.unverifiedFiles.first ?? "batches.meta.txt"
        let meta = KnownFile(name: metaName, md5: "")
        let validateMeta: (String) throws -> Void = { _ = try CIFARReader.readClassNames(path: $0) }
        var missing = spec.files + [meta]
        if !options.force {
            missing = missing.filter { file in
                let path = folder.appendingPathComponent(file.name).path
                guard FileManager.default.fileExists(atPath: path) else { return true }
                let good: Bool
                if file.md5.isEmpty {
                    good = (try? validateMeta(path)) != nil
                } else {
                    let v = try? Downloader.verify(path: path, against: file)
                    good = v == .archiveMD5 || v == .contentMD5
                }
                if good { progress(.alreadyPresent(file: file.name)) }
                return !good
            }
        }
        if missing.isEmpty { return }
        var failures: [String: [String]] = [:]
        for base in bases {
            if missing.isEmpty { break }
            if let archive = spec.archive {
                do {
                    try downloader.fetch(archive, into: folder, from: [base.appendingPathComponent(archive.name)], force: options.force)
                    try extract(spec, archive: folder.appendingPathComponent(archive.name).path, folder: folder,
                                wanted: missing, validateMeta: validateMeta)
                    try? FileManager.default.removeItem(at: folder.appendingPathComponent(archive.name))
                    missing = []
                    break
                } catch let e as DownloadError {
                    if case .io = e { throw e }
                    if case let .allSourcesFailed(_, attempts) = e {
                        failures[archive.name, default: []] += attempts
                    } else {
                        failures[archive.name, default: []].append(e.description)
                    }
                } catch let e as DatasetError {
                    try? FileManager.default.removeItem(at: folder.appendingPathComponent(archive.name))
                    failures[archive.name, default: []].append(e.description)
                }
            }
            if spec.officialBases.contains(base) { continue }  // the official host serves only the archive
            missing = missing.filter { file in
                do {
                    try downloader.fetch(file, into: folder, from: [base.appendingPathComponent(file.name)], force: options.force,
                                         validate: file.md5.isEmpty ? validateMeta : nil)
                    return false
                } catch let e as DownloadError {
                    if case let .allSourcesFailed(_, attempts) = e { failures[file.name, default: []] += attempts }
                    return true
                } catch { return true }
            }
        }
        if let first = missing.first {
            let archiveNote = spec.archive.flatMap { failures[$0.name] }.map { $0.map { "(archive) " + $0 } } ?? []
            throw DownloadError.allSourcesFailed(file: first.name, attempts: (failures[first.name] ?? ["no source tried"]) + archiveNote
                + (missing.count > 1 ? ["also missing: " + missing.dropFirst().map(\.name).joined(separator: ", ")] : []))
        }
    }

    /// Extracts the wanted members, verifies each, and moves them into place.
    private func extract(_ spec: DatasetSpec, archive: String, folder: URL, wanted: [KnownFile],
                         validateMeta: (String) throws -> Void) throws {
        var members: [String: String] = [:]
        for f in wanted { members[spec.archiveMemberPrefix + f.name] = folder.appendingPathComponent(f.name).path + ".part" }
        let stream = try FileByteStream.openMaybeGzip(path: archive)
        let written = Set(try TarReader.extract(from: stream, archiveName: archive, members: members))
        defer { for part in members.values { try? FileManager.default.removeItem(atPath: part) } }
        for f in wanted {
            let part = members[spec.archiveMemberPrefix + f.name]!
            guard written.contains(spec.archiveMemberPrefix + f.name) else {
                throw DatasetError.invalidTar(path: archive, reason: "member \(spec.archiveMemberPrefix + f.name) is missing")
            }
            if f.md5.isEmpty {
                try validateMeta(part)
            } else if case let .mismatch(got) = try Downloader.verify(path: part, against: f) {
                throw DatasetError.inconsistent(path: archive, reason: "member \(f.name) has md5 \(got), expected \(f.md5)")
            }
        }
        for f in wanted {
            let final = folder.appendingPathComponent(f.name).path
            guard rename(final + ".part", final) == 0 else {
                throw DownloadError.io(path: final, reason: "cannot move into place: \(String(cString: strerror(errno)))")
            }
            progress(.extracted(file: f.name, archive: spec.archive?.name ?? archive))
        }
    }
}
