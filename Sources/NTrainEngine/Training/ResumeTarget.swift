import Foundation

/// What `--resume PATH` continues: a checkpoint file as given, or for a run folder the newest
/// valid checkpoint in it, or (a run killed before its first checkpoint) the folder's own config
/// from the start, in place.
enum ResumeTarget {
    case checkpoint(Checkpoint, path: String, note: String?)
    case restart(config: ExperimentConfig, folder: URL, note: String)

    static func resolve(_ path: String) throws -> ResumeTarget {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .checkpoint(try CheckpointReader.read(contentsOf: URL(fileURLWithPath: path)), path: path, note: nil)
        }
        let folder = URL(fileURLWithPath: path, isDirectory: true)
        let run = RunFiles(folder)
        // last.mge is written after the epoch file, so a kill between the two leaves the epoch file
        // newer; the checkpoint with the higher step wins, last.mge on a tie.
        var problems: [String] = []
        var best: (checkpoint: Checkpoint, path: String, step: Int)?
        let epochFiles = run.epochCheckpoints()
        for candidate in [run.last] + epochFiles.reversed() {
            guard FileManager.default.fileExists(atPath: candidate.path) else {
                if candidate == run.last { problems.append("last.mge is missing") }
                continue
            }
            do {
                let checkpoint = try CheckpointReader.read(contentsOf: candidate)
                let step = (try? checkpoint.metadata["progress"]?.decode(TrainingProgress.self))?.step ?? -1
                if best == nil || step > best!.step { best = (checkpoint, candidate.path, step) }
                // Only last.mge and the newest readable epoch file are read.
                if candidate != run.last { break }
            } catch {
                problems.append("\(candidate.lastPathComponent) is unreadable (\(error))")
            }
        }
        if let best {
            let note = best.path == run.last.path ? nil
                : "resuming from \(best.path), the newest valid checkpoint in \(path)"
                    + (problems.isEmpty ? "" : " (\(problems.joined(separator: "; ")))")
            return .checkpoint(best.checkpoint, path: best.path, note: note)
        }
        guard FileManager.default.fileExists(atPath: run.config.path) else {
            throw EngineError.unusableCheckpoint(path: path, reason: "the folder holds no checkpoint (last.mge or checkpoints/epoch-*.mge) "
                + "and no config.json, so it is not an ntrain run folder; give a checkpoint file or a run folder")
        }
        let config = try ExperimentConfig.load(contentsOf: run.config)
        return .restart(config: config, folder: folder,
                        note: "\(path) has no checkpoint yet (the run stopped before its first one); starting it again from its config.json")
    }
}

/// The checkpoint and config paths of a run folder (DESIGN §7).
struct RunFiles {
    let folder: URL
    init(_ folder: URL) { self.folder = folder }
    var last: URL { folder.appendingPathComponent("last.mge") }
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
