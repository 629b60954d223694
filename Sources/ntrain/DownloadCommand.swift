import ArgumentParser
import Foundation
import NTrainData

/// `ntrain download mnist|fashion-mnist|cifar10|all`: fetches, verifies and unpacks datasets.
/// All logic lives in NTrainData (`DatasetDownloader`); this file parses flags and draws progress.
struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download and verify a dataset (mnist, fashion-mnist, cifar10 or all).",
        discussion: """
            Sources are tried in order: --mirror URLs/folders (NTRAIN_MIRROR first), system copies such as \
            Debian's /usr/share/datasets/fashion-mnist, then the official hosts. Files are checked against the \
            official md5s (a re-compressed .gz is accepted when its content matches), downloaded to NAME.part, \
            resumed with HTTP Range and only then moved into place. The root is --root, else NTRAIN_DATA, else \
            ~/.cache/ntrain/datasets. Exit status: 0 ok, 1 download or I/O failure, 2 usage.
            """)

    @Argument(help: "mnist, fashion-mnist, cifar10 or all", completion: .list(["mnist", "fashion-mnist", "cifar10", "all"]))
    var dataset: String

    @Option(help: "Dataset root folder (default: $NTRAIN_DATA or ~/.cache/ntrain/datasets).", completion: .directory)
    var root: String?

    @Option(name: .customLong("mirror"), help: "A mirror (http://, https://, file:// or a folder); repeat for more, tried in order.")
    var mirrors: [String] = []

    @Flag(help: "Download again even if a verified copy exists (the old copy stays until the new one verifies).")
    var force = false

    func run() throws {
        let kinds: [DatasetKind]
        if dataset.lowercased() == "all" {
            kinds = DatasetKind.allCases
        } else if let k = DatasetKind(name: dataset) {
            kinds = [k]
        } else {
            Self.fail("unknown dataset '\(dataset)'; choose one of: \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", ")), all")
            throw ExitCode(2)
        }
        let options = DownloadOptions(mirrors: DownloadOptions.mirrors(mirrors), force: force)
        for m in options.mirrors {
            do { _ = try DatasetDownloader.mirrorURL(m) } catch {
                Self.fail("\(error)")
                throw ExitCode(2)
            }
        }
        let rootURL = DatasetRoot.resolve(explicit: root)
        let display = ProgressDisplay()
        let downloader = DatasetDownloader(root: rootURL, options: options, progress: display.handle)
        var failed = false
        for kind in kinds {
            print("\(kind): \(rootURL.appendingPathComponent(kind.folderName).path)")
            do {
                try downloader.download(kind)
                display.finishLine()
                print("\(kind): ready")
            } catch {
                display.finishLine()
                Self.fail("\(kind): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}

/// Renders download events: a redrawn bar on a terminal, plain lines otherwise (logs, CI).
final class ProgressDisplay: @unchecked Sendable {
    private let bar = LiveBar()
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var lastPercent: [String: Int] = [:]

    func handle(_ event: DownloadEvent) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .progress(file, bytes, total):
            if bar.isInteractive {
                guard Date().timeIntervalSince(lastDraw) > 0.1 || bytes == total else { return }
                lastDraw = Date()
                if let t = total, t > 0 {
                    bar.draw(fraction: Double(bytes) / Double(t), "\(file) \(Int(bytes * 100 / t))% \(Self.mb(bytes))/\(Self.mb(t))")
                } else {
                    bar.draw(fraction: nil, "\(file) \(Self.mb(bytes))")
                }
            } else if let t = total, t > 0 {
                let pct = Int(bytes * 100 / t) / 25 * 25
                if pct > lastPercent[file, default: -1] {
                    lastPercent[file] = pct
                    line("  \(file): \(pct)% of \(Self.mb(t))")
                }
            }
        case let .started(file, source, resumingAt, _):
            lastPercent[file] = -1
            line("  \(file): " + (resumingAt > 0 ? "resuming at \(Self.mb(resumingAt)) from " : "from ") + source)
        case let .alreadyPresent(file): line("  \(file): already present and verified")
        case let .verified(file, how): line("  \(file): verified (\(how))")
        case let .extracted(file, archive): line("  \(file): extracted from \(archive) and verified")
        case let .retrying(file, _, attempt, delay, reason):
            line("  \(file): \(reason); try \(attempt) in \(String(format: "%.1f", delay)) s")
        case let .sourceFailed(file, source, reason): line("  \(file): skipping \(source): \(reason)")
        }
    }

    func finishLine() { bar.clear() }

    private func line(_ text: String) { bar.line(text) }

    static func mb(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}
