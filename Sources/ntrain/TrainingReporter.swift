import Foundation
import NTrainCore
import NTrainEngine

/// Renders training progress: a live bar on a terminal, plain lines otherwise, JSON lines with
/// --json, or nothing but the summary with --quiet.
final class TrainingReporter: TrainingObserver {
    enum Mode { case text, quiet, json }
    let mode: Mode
    private let bar = LiveBar(toStandardOutput: true)

    init(mode: Mode) { self.mode = mode }

    private func emit(_ object: [String: JSONValue]) {
        printOutput(JSONValue.object(object).serialized() + "\n")
    }

    private func line(_ text: String) { bar.line(text) }

    func trainingStarted(_ s: TrainingStart) {
        switch mode {
        case .quiet: return
        case .json:
            emit(["event": "start", "device": .string(s.device.description), "device_request": .string(s.deviceRequest),
                  "run_dir": .string(s.runDirectory), "parameters": .integer(Int64(s.parameterCount)),
                  "estimated_memory_bytes": s.estimatedMemoryBytes.map { .integer(Int64($0)) } ?? .null,
                  "train_examples": .integer(Int64(s.trainExamples)), "eval_examples": .integer(Int64(s.evalExamples)),
                  "epochs": .integer(Int64(s.epochs)), "start_epoch": .integer(Int64(s.startEpoch)), "threads": .integer(Int64(s.threads)),
                  "layers": .array(s.modelRows.map { .object(["name": .string($0.name), "layer": .string($0.layer),
                                                              "output": .array($0.output.dims.map { .integer(Int64($0)) }),
                                                              "parameters": .integer(Int64($0.parameters))]) })])
        case .text:
            line("device     \(s.device) (requested \(s.deviceRequest)), \(s.threads) threads")
            line("run        \(s.runDirectory)")
            if let r = s.resumedFrom { line("resuming   \(r) at epoch \(s.startEpoch + 1)") }
            line("data       \(s.trainExamples) training, \(s.evalExamples) evaluation examples; \(s.stepsPerEpoch) steps per epoch")
            for note in s.notes { line("note       \(note)") }
            let nameWidth = max(5, s.modelRows.map(\.name.count).max() ?? 0)
            let layerWidth = max(5, s.modelRows.map(\.layer.count).max() ?? 0)
            line("\n" + "layer".padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                 + "type".padding(toLength: layerWidth + 2, withPad: " ", startingAt: 0) + "output".padding(toLength: 20, withPad: " ", startingAt: 0) + "params")
            for r in s.modelRows {
                line(r.name.padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                     + r.layer.padding(toLength: layerWidth + 2, withPad: " ", startingAt: 0)
                     + r.output.description.padding(toLength: 20, withPad: " ", startingAt: 0) + String(r.parameters))
            }
            line("total parameters: \(s.parameterCount)" + (s.estimatedMemoryBytes.map {
                "; training needs about \(ModelMemoryEstimate.format($0)) (weights, gradients, optimizer state, activations)"
            } ?? "") + "\n")
        }
    }

    func stepFinished(_ p: StepProgress) {
        switch mode {
        case .quiet: return
        case .json:
            emit(["event": "step", "epoch": .integer(Int64(p.epoch)), "batch": .integer(Int64(p.batch)), "step": .integer(Int64(p.step)),
                  "loss": .double(p.loss), "lr": .double(p.learningRate), "images_per_second": .double(p.imagesPerSecond),
                  "eta_seconds": .double(p.etaSeconds)])
        case .text:
            let text = String(format: "epoch %d/%d  step %d/%d  loss %.4f  lr %.3g  %.0f img/s  ETA %@",
                              p.epoch, p.epochs, p.batch, p.batches, p.loss, p.learningRate, p.imagesPerSecond, Self.duration(p.etaSeconds))
            if bar.isInteractive {
                bar.draw(fraction: p.batches > 0 ? Double(p.batch) / Double(p.batches) : 1, text)
            } else {
                line(text)
            }
        }
    }

    func epochFinished(_ r: EpochRecord, evaluation: EvaluationResult?, epochs: Int) {
        switch mode {
        case .quiet: return
        case .json:
            var o: [String: JSONValue] = ["event": "epoch"]
            if case .object(let fields)? = try? JSONValue(encoding: r) { o.merge(fields) { a, _ in a } }
            emit(o)
        case .text:
            var parts = [String(format: "epoch %d/%d  train loss %.4f", r.epoch, epochs, r.trainLoss)]
            if let a = r.trainAccuracy { parts.append(String(format: "acc %.2f%%", a * 100)) }
            if let l = r.evalLoss { parts.append(String(format: "| eval loss %.4f", l)) }
            if let a = r.evalAccuracy { parts.append(String(format: "acc %.2f%%", a * 100)) }
            if let a = r.evalTop5 { parts.append(String(format: "top-5 %.2f%%", a * 100)) }
            if let m = r.evalMSE { parts.append(String(format: "mse %.5f", m)) }
            if let m = r.evalMAE { parts.append(String(format: "mae %.5f", m)) }
            parts.append(String(format: "| lr %.3g  %.1f s  %.0f img/s", r.learningRate, r.seconds, r.imagesPerSecond))
            line(parts.joined(separator: "  "))
        }
    }

    func note(_ message: String) {
        switch mode {
        case .quiet: printError(message)
        case .json: emit(["event": "note", "message": .string(message)])
        case .text: line(message)
        }
    }

    func finished(_ s: TrainingSummary) {
        let last = s.progress.history.last
        if mode == .json {
            var o: [String: JSONValue] = ["event": "end", "ending": .string(s.ending.rawValue), "run_dir": .string(s.runDirectory),
                                          "epochs": .integer(Int64(s.progress.epoch)), "steps": .integer(Int64(s.progress.step)),
                                          "skipped_steps": .integer(Int64(s.progress.skippedSteps))]
            if let p = s.lastCheckpoint { o["last_checkpoint"] = .string(p) }
            if let p = s.bestCheckpoint { o["best_checkpoint"] = .string(p) }
            if let a = last?.evalAccuracy { o["eval_accuracy"] = .double(a) }
            if let l = last?.evalLoss { o["eval_loss"] = .double(l) }
            if let t = s.test {
                o["test_loss"] = .double(t.loss)
                if let a = t.value(of: .accuracy) { o["test_accuracy"] = .double(a) }
            }
            emit(o)
            return
        }
        var text = "\(s.ending == .completed ? "done" : s.ending == .earlyStopped ? "stopped early" : "interrupted"): \(counted(s.progress.epoch, "epoch")), \(counted(s.progress.step, "step"))"
        if s.progress.skippedSteps > 0 { text += ", \(s.progress.skippedSteps) skipped (NaN/Inf)" }
        if let a = last?.evalAccuracy { text += String(format: "; %@ accuracy %.2f%%", s.test == nil ? "eval" : "validation", a * 100) }
        if let m = last?.evalMSE { text += String(format: "; eval mse %.5f", m) }
        if let t = s.test {
            text += t.value(of: .accuracy).map { String(format: "; test accuracy %.2f%%", $0 * 100) } ?? String(format: "; test loss %.5f", t.loss)
        }
        line(text)
        if let p = s.bestCheckpoint { line("best       \(p)") }
        if let p = s.lastCheckpoint { line("last       \(p)") }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
