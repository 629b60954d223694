import Foundation

/// The files of one run (DESIGN §7): config.json, metrics.csv, train.log, TensorBoard events,
/// checkpoints/epoch-NNNN.mge, last.mge and best.mge.
public final class RunDirectory {
    public let url: URL
    private var files: RunFiles { RunFiles(url) }
    public var checkpointsURL: URL { files.checkpoints }
    public var lastURL: URL { files.last }
    public var bestURL: URL { files.best }
    public var configURL: URL { files.config }
    public var metricsURL: URL { url.appendingPathComponent("metrics.csv") }
    public var logURL: URL { url.appendingPathComponent("train.log") }

    /// Temporary files of killed writes that opening the folder removed (see `RunFiles`).
    public private(set) var removedTemporaries: [String] = []
    private let csvEnabled: Bool
    private var tensorboard: TensorBoardWriter?
    private var logHandle: FileHandle?
    private var csvHandle: FileHandle?
    /// False for the other ranks of a data-parallel run: rank 0 alone writes the folder.
    public let writes: Bool

    static let csvColumns = ["kind", "epoch", "step", "train_loss", "train_accuracy", "eval_loss", "eval_accuracy",
                             "eval_top5", "eval_mse", "eval_mae", "lr", "seconds", "images_per_second"]

    /// `runs/<name>/<YYYYmmdd-HHMMSS>` under the current folder, for a new run.
    public static func defaultURL(name: String, now: Date = Date()) -> URL {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return URL(fileURLWithPath: "runs", isDirectory: true).appendingPathComponent(name).appendingPathComponent(f.string(from: now))
    }

    /// Opens `url` for a run. A new run refuses a folder that already holds files, so nothing a
    /// user had is overwritten; a resumed run (`resumingAtStep`) keeps the metrics rows up to the
    /// checkpoint's step and appends after them.
    public init(url: URL, configJSON: String, csv: Bool, tensorboard: Bool, resumingAtStep: Int? = nil) throws {
        self.url = url
        self.csvEnabled = csv
        self.writes = true
        let fm = FileManager.default
        // What a killed write left (`.NAME.tmp-PID-…` of a dead process) is not the user's.
        removedTemporaries = RunFiles(url).removeStaleTemporaries()
        if resumingAtStep == nil, let existing = try? fm.contentsOfDirectory(atPath: url.path), !existing.isEmpty {
            throw EngineError.unusableCheckpoint(path: url.path,
                reason: "the run folder already holds files (\(existing.sorted().prefix(3).joined(separator: ", ")))); choose another --out, or continue it with --resume \(url.path)")
        }
        do {
            // config.json first: a run killed at any later point can be resumed or restarted from it.
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
            try CheckpointWriter.writeAtomically(Data(configJSON.utf8), to: configURL)
            try fm.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
            if csv {
                if let step = resumingAtStep, fm.fileExists(atPath: metricsURL.path) {
                    try Self.truncateMetrics(at: metricsURL, afterStep: step)
                } else {
                    try CheckpointWriter.writeAtomically(Data((Self.csvColumns.joined(separator: ",") + "\n").utf8), to: metricsURL)
                }
                csvHandle = try FileHandle(forWritingTo: metricsURL)
                try csvHandle?.seekToEnd()
            }
            if !fm.fileExists(atPath: logURL.path) { _ = fm.createFile(atPath: logURL.path, contents: nil) }
            logHandle = try FileHandle(forWritingTo: logURL)
            try logHandle?.seekToEnd()
            if tensorboard { self.tensorboard = try TensorBoardWriter(directory: url) }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.io("cannot write the run folder \(url.path): \(error.localizedDescription)")
        }
    }

    /// The folder of a run that another rank writes: this one only knows its paths, and logging,
    /// records and checkpoints are the writer's.
    public init(following url: URL) {
        self.url = url
        csvEnabled = false
        writes = false
    }

    deinit {
        try? csvHandle?.close()
        try? logHandle?.close()
    }

    /// Keeps the header and the rows whose step is at most `step` (the rows an interrupted run
    /// wrote after its last checkpoint are replayed by the resumed run).
    static func truncateMetrics(at url: URL, afterStep step: Int) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard let header = lines.first else { return }
        let stepColumn = header.split(separator: ",").firstIndex(of: "step") ?? 2
        lines = [header] + lines.dropFirst().filter { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields.count > stepColumn && (Int(fields[stepColumn]) ?? Int.max) <= step
        }
        try CheckpointWriter.writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: url)
    }

    /// Appends a line to train.log.
    public func log(_ line: String) {
        try? logHandle?.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Appends a metrics.csv row (`values` keyed by column) and the matching TensorBoard scalars.
    public func record(kind: String, step: Int, values: [String: Double]) {
        if csvEnabled {
            var fields = [kind]
            for column in Self.csvColumns.dropFirst() {
                if column == "step" { fields.append(String(step)); continue }
                guard let v = values[column] else { fields.append(""); continue }
                fields.append(column == "epoch" ? String(Int(v)) : "\(v)")
            }
            try? csvHandle?.write(contentsOf: Data((fields.joined(separator: ",") + "\n").utf8))
        }
        if let tensorboard {
            for (key, value) in values.sorted(by: { $0.key < $1.key }) where key != "epoch" && value.isFinite {
                let tag = key.hasPrefix("eval_") ? "eval/" + key.dropFirst(5) : key.hasPrefix("train_") ? "train/" + key.dropFirst(6) : key
                try? tensorboard.add(scalar: Float(value), tag: "\(kind)/\(tag)", step: step)
            }
            // Writes are unbuffered, so live readers see them; fsync only once an epoch.
            if kind == "epoch" { try? tensorboard.flush() }
        }
    }

    /// Writes the checkpoint as last.mge, as checkpoints/epoch-NNNN.mge when `epochFile`, and as
    /// best.mge when `best`, each atomically; then prunes epoch files beyond `keepLast` (0 keeps all).
    public func save(_ data: Data, epochFile: Int?, best: Bool, keepLast: Int) throws {
        guard writes else { return }
        do {
            if let epoch = epochFile {
                try CheckpointWriter.writeAtomically(data, to: checkpointsURL.appendingPathComponent(String(format: "epoch-%04d.mge", epoch)))
            }
            try CheckpointWriter.writeAtomically(data, to: lastURL)
            if best { try CheckpointWriter.writeAtomically(data, to: bestURL) }
        } catch {
            throw EngineError.io("cannot write a checkpoint in \(url.path): \(error)")
        }
        guard keepLast > 0 else { return }
        for old in files.epochCheckpoints().dropLast(keepLast) {
            try? FileManager.default.removeItem(at: old)
        }
    }
}
