import Foundation

/// The paths of a run folder's files (DESIGN §7), for `RunDirectory` and for `--resume`, which
/// looks into a folder before (or without) opening it.
struct RunFiles {
    let folder: URL
    init(_ folder: URL) { self.folder = folder }
    var last: URL { folder.appendingPathComponent("last.mge") }
    var best: URL { folder.appendingPathComponent("best.mge") }
    var config: URL { folder.appendingPathComponent("config.json") }
    var checkpoints: URL { folder.appendingPathComponent("checkpoints", isDirectory: true) }

    /// checkpoints/epoch-NNNN.mge, oldest first.
    func epochCheckpoints() -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? [])
            .filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".mge") }.sorted()
            .map { checkpoints.appendingPathComponent($0) }
    }

    /// Removes the temporary files of interrupted atomic writes (`.NAME.tmp-PID-RANDOM`) in the
    /// folder and in checkpoints/; returns their names.
    @discardableResult
    func removeStaleTemporaries() -> [String] {
        var removed: [String] = []
        for dir in [folder, checkpoints] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            where name.hasPrefix(".") && name.contains(".tmp-") && !Self.writerIsAlive(name) {
                if (try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))) != nil { removed.append(name) }
            }
        }
        return removed.sorted()
    }

    /// Whether the process that named the temporary file (`.tmp-PID-…`) still runs (and is not us).
    static func writerIsAlive(_ name: String) -> Bool {
        guard let range = name.range(of: ".tmp-"),
              let pid = Int32(name[range.upperBound...].prefix(while: \.isNumber)), pid > 0, pid != getpid() else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
