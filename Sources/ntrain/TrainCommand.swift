import ArgumentParser
import Foundation
import NTrainCore
import NTrainEngine

/// `ntrain train CONFIG.json [...]`: run an experiment.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the experiment a JSON config describes.",
        discussion: """
            Writes runs/<name>/<time>/ (or --out): config.json, metrics.csv, train.log, TensorBoard events, \
            last.mge, best.mge and checkpoints/epoch-NNNN.mge. Ctrl-C finishes the current step, writes \
            last.mge and exits 130 (press it twice to stop at once); continue with --resume RUN_DIR.

            Under mpirun (Open MPI), trains data-parallel: batch_size is per rank, rank 0 writes the run \
            folder (docs/distributed.md).

            Device: --device > config "device" > MGE_DEFAULT_DEVICE > xpux.
            Exit status: 0 ok, 1 runtime failure (I/O, download, NaN abort), 2 invalid config or usage, 130 interrupted.
            """)

    @Argument(help: "The experiment config (optional with --resume, which uses the checkpoint's config).", completion: .file(extensions: ["json"]))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value by dotted path, e.g. --set optimizer.lr=0.01.", valueName: "a.b=value"))
    var overrides: [String] = []

    @Option(help: "Device: cpux, cpuN, gpux, gpuN or xpux.", completion: .list(["cpux", "gpux", "xpux", "cpu0", "gpu0"]))
    var device: String?

    @Option(help: ArgumentHelp("Continue a run exactly from a checkpoint or run folder.", valueName: "CKPT|RUN_DIR"), completion: .file(extensions: ["mge"]))
    var resume: String?

    @Option(help: ArgumentHelp("Start a new run from a checkpoint's model weights or a PyTorch state dict (.safetensors).", valueName: "CKPT|FILE.safetensors"), completion: .file(extensions: ["mge", "safetensors"]))
    var weights: String?

    @Option(help: ArgumentHelp("Run folder (default runs/<name>/<YYYYmmdd-HHMMSS>).", valueName: "DIR"), completion: .directory)
    var out: String?

    @Option(help: "Number of epochs (on --resume: extends the run; the schedule continues).")
    var epochs: Int?

    @Flag(help: "Print only the final summary.")
    var quiet = false

    @Flag(help: "Print JSON lines (one object per event) instead of text.")
    var json = false

    func validate() throws {
        if config == nil && resume == nil { throw ValidationError("give CONFIG.json, or --resume CKPT|RUN_DIR") }
        if resume != nil && weights != nil { throw ValidationError("--resume and --weights cannot be combined") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if !overrides.isEmpty && resume != nil && config == nil { throw ValidationError("--set needs CONFIG.json") }
    }

    func run() throws {
        let launch = LaunchEnvironment()
        var group: (any ProcessGroup)?
        defer { group?.finish() }
        try reportingFailures(printed: !launch.isDistributed || launch.rank == 0) {
            // First, before any other thread starts: the kernel choice sets OPENBLAS_CORETYPE around the load.
            try BLAS.load()
            var fileConfig: ExperimentConfig?
            if let config { fileConfig = try ExperimentConfig.load(contentsOf: URL(fileURLWithPath: config), overrides: overrides) }
            let ranks = try ProcessGroups.join(launch)
            group = ranks
            try stoppingEveryRankOnFailure(ranks) {
                try train(fileConfig, group: ranks)
            }
        }
    }

    /// Trains on this rank; rank 0 alone reports and writes the run folder.
    private func train(_ fileConfig: ExperimentConfig?, group: any ProcessGroup) throws {
        let reporter = group.isLeader ? TrainingReporter(mode: json ? .json : quiet ? .quiet : .text) : nil
        let trainer = try Trainer(config: fileConfig, options: TrainOptions(device: device, resume: resume, weights: weights,
                                                                          out: out, epochs: epochs), observer: reporter, group: group)
        if resume != nil, let fileConfig, fileConfig != trainer.config {
            reporter?.note("--resume uses the config stored in the checkpoint; differences in \(config ?? "") are ignored")
        }
        if group.size > 1 { reporter?.note("data-parallel: \(group.summary), batch_size \(trainer.config.data.batchSize) per rank") }
        Interrupt.install()
        defer { Interrupt.uninstall() }
        let summary = try trainer.run()
        reporter?.finished(summary)
        if summary.ending == .interrupted { throw ExitCode(130) }
    }
}
