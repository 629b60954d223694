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
