import Foundation
import NTrainCore
import NTrainData
import NTrainNN

extension Trainer {
    /// One epoch (or its remainder after a resume). Returns false when Ctrl-C stopped it.
    func trainEpoch() throws -> Bool {
        let epoch = progress.epoch
        let total = data.train.batchesPerEpoch
        let accumulate = config.train.accumulate
        let parameters = model.parameters
        let classes = data.isRegression ? 0 : data.classNames.count
        let clock = ContinuousClock()
        let started = clock.now
        var window = 0
        var stopRequested = false
        var sinceLog = (loss: 0.0, steps: 0, images: 0, start: clock.now)

        for batch in data.train.batches(epoch: epoch, startingAt: progress.batchInEpoch) {
            let output = model(batch.inputs.to(device))
            var value = loss(output, batch.targets)
            if config.loss.reduction == .sum { value = value * Float(batch.targets.shape[0]) }
            let lossValue = value.item()
            // A failed GPU op leaves NaN behind: report the failure, not a NaN loss. (A failure in
            // backward or the optimizer step shows at the next loss, NaN guard or checkpoint.)
            try Trainer.synchronize(device)
            let step = try StepStatistics(loss: lossValue, count: batch.targets.shape[0],
                                          correct: classes > 0 ? Self.correct(output, batch.targets) : 0, group: group)
            stopRequested = stopRequested || step.stopRequested
            var skipped = false
            if !step.allFinite {
                try nonFinite("loss", batch: batch)  // clears the gradients accumulated so far
                skipped = true
                window = 0
            } else {
                (accumulate > 1 ? value * (1 / Float(accumulate)) : value).backward()
                window += 1
            }
            if !skipped, window == accumulate || batch.index == total - 1 {
                // Averaged over the ranks first: a NaN on any rank reaches every rank's sum.
                try gradients.average()
                if !gradientsAreFinite(parameters) {
                    try nonFinite("gradients", batch: batch)
                    skipped = true
                } else {
                    switch config.train.gradClip {
                    case .maxNorm(let m)?: clipGradNorm(parameters, maxNorm: Float(m))
                    case .value(let v)?: clipGradValue(parameters, clipValue: Float(v))
                    case nil: break
                    }
                    optimizer.step()
                    ema?.update(from: model)
                    progress.optimizerSteps += 1
                    if config.scheduler.interval == .step, let scheduler, !scheduler.needsMetric { scheduler.step() }
                }
                optimizer.zeroGrad()
                window = 0
            }
            if !skipped {
                progress.partialLossSum += step.lossSum
                progress.partialCount += step.count
                progress.partialCorrect += step.correct
                sinceLog.loss += step.meanLoss
                sinceLog.steps += 1
            }
            sinceLog.images += step.count
            progress.batchInEpoch += 1
            progress.step += 1

            if progress.step % config.train.logEvery == 0 || batch.index == total - 1 {
                let seconds = (clock.now - sinceLog.start).seconds
                let rate = Double(sinceLog.images) / max(seconds, 1e-9)
                let stepLoss = sinceLog.steps > 0 ? sinceLog.loss / Double(sinceLog.steps) : .nan
                let remaining = Double((total - progress.batchInEpoch) + (epochs - epoch - 1) * total) * Double(config.data.batchSize * group.size)
                observer?.stepFinished(StepProgress(epoch: epoch + 1, epochs: epochs, batch: progress.batchInEpoch, batches: total,
                                                    step: progress.step, loss: stepLoss, learningRate: Double(optimizer.learningRate),
                                                    imagesPerSecond: rate, etaSeconds: remaining / max(rate, 1e-9)))
                runDirectory.record(kind: "step", step: progress.step, values: ["epoch": Double(epoch + 1), "train_loss": stepLoss,
                                                                        "lr": Double(optimizer.learningRate), "images_per_second": rate])
                sinceLog = (0, 0, 0, clock.now)
            }
            if (group.size > 1 ? stopRequested : Interrupt.requested) && window == 0 {
                progress.partialSeconds += (clock.now - started).seconds
                let path = try saveCheckpoint(epochFile: nil, best: false)
                runDirectory.log("interrupted at epoch \(epoch + 1), step \(progress.step); checkpoint \(path)")
                observer?.note("interrupted: saved \(path); continue with --resume \(runDirectory.url.path)")
                return false
            }
        }
        try finishEpoch(seconds: progress.partialSeconds + (clock.now - started).seconds)
        return true
    }

    /// Ends an epoch: its record, evaluation, epoch scheduler step, checkpoints and logs.
    private func finishEpoch(seconds: Double) throws {
        let epoch = progress.epoch + 1
        var record = EpochRecord(epoch: epoch, step: progress.step,
                                 trainLoss: progress.partialCount > 0 ? progress.partialLossSum / Double(progress.partialCount) : .nan,
                                 trainAccuracy: data.isRegression || progress.partialCount == 0 ? nil : Double(progress.partialCorrect) / Double(progress.partialCount),
                                 learningRate: Double(optimizer.learningRate), seconds: seconds,
                                 imagesPerSecond: Double(data.train.batchesPerEpoch * config.data.batchSize * group.size) / max(seconds, 1e-9))
        var evaluation: EvaluationResult?
        let every = config.train.evalEvery  // 0: only after the last epoch
        if (every > 0 && epoch % every == 0) || epoch == epochs {
            // Every rank evaluates its shard with rank 0's BN statistics (the ones rank 0 saves).
            try GradientAverager.broadcast(model.namedBuffers().map(\.1), group: group)
            let result = try evaluate(on: data.eval)
            try Trainer.synchronize(device)
            record.set(eval: result)
            evaluation = result
        }
        if let scheduler, config.scheduler.interval == .epoch || scheduler.needsMetric {
            if scheduler.needsMetric {
                scheduler.step(metric: record.value(of: config.scheduler.monitor) ?? record.trainLoss)
            } else {
                scheduler.step()
            }
        }
        progress.epoch = epoch
        progress.batchInEpoch = 0
        progress.partialLossSum = 0
        progress.partialCorrect = 0
        progress.partialCount = 0
        progress.partialSeconds = 0
        progress.history.append(record)

        var isBest = false
        if let value = record.value(of: config.checkpoint.monitor), value.isFinite {
            if progress.best.map({ config.checkpoint.mode == .max ? value > $0 : value < $0 }) ?? true {
                progress.best = value
                progress.bestEpoch = epoch
                isBest = true
            }
        }
        if let early = config.train.earlyStopping, let value = record.value(of: early.monitor) {
            let improved = progress.earlyStoppingBest.map {
                early.mode == .max ? value > $0 + early.minDelta : value < $0 - early.minDelta
            } ?? true
            if improved {
                progress.earlyStoppingBest = value
                progress.epochsWithoutImprovement = 0
            } else {
                progress.epochsWithoutImprovement += 1
            }
        }
        let checkpointEvery = config.checkpoint.every
        _ = try saveCheckpoint(epochFile: checkpointEvery > 0 && epoch % checkpointEvery == 0 ? epoch : nil, best: isBest)
        var values: [String: Double] = ["epoch": Double(epoch), "train_loss": record.trainLoss, "lr": record.learningRate,
                                        "seconds": record.seconds, "images_per_second": record.imagesPerSecond]
        values["train_accuracy"] = record.trainAccuracy
        values["eval_loss"] = record.evalLoss
        values["eval_accuracy"] = record.evalAccuracy
        values["eval_top5"] = record.evalTop5
        values["eval_mse"] = record.evalMSE
        values["eval_mae"] = record.evalMAE
        runDirectory.record(kind: "epoch", step: progress.step, values: values)
        runDirectory.log("epoch \(epoch)/\(epochs): " + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        observer?.epochFinished(record, evaluation: evaluation, epochs: epochs)
    }

    func shouldStopEarly() -> Bool {
        guard let early = config.train.earlyStopping else { return false }
        return progress.epochsWithoutImprovement >= early.patience && progress.epoch < epochs
    }

    /// `loader` evaluated (summed over the ranks' shards) with the configured TTA, on the moving
    /// average of the weights when there is one.
    func evaluate(on loader: DataLoader) throws -> EvaluationResult {
        let classes = data.isRegression ? 0 : data.classNames.count
        let run = { Evaluator.evaluate(self.model, loader: loader, loss: self.loss, classes: classes, tta: self.config.train.tta) }
        return try (ema.map { $0.withAverage(in: model, run) } ?? run()).summed(over: group)
    }

    /// Writes last.mge (and the epoch/best files); returns the last.mge path.
    @discardableResult
    func saveCheckpoint(epochFile: Int?, best: Bool) throws -> String {
        guard runDirectory.writes else { return runDirectory.lastURL.path }
        try Trainer.synchronize(device)  // never save weights a failed GPU op left undefined
        let checkpoint = try TrainingCheckpoint.make(config: config, model: model, optimizer: optimizer, scheduler: scheduler,
                                                     progress: progress, device: device, data: data, ema: ema)
        let bytes = try CheckpointWriter.encode(checkpoint, file: runDirectory.lastURL.path)
        try runDirectory.save(bytes, epochFile: epochFile, best: best, keepLast: config.checkpoint.keepLast)
        return runDirectory.lastURL.path
    }

    /// The NaN/Inf guard: "stop" throws before the step reaches the weights; "skip" drops it.
    private func nonFinite(_ what: String, batch: Batch) throws {
        // A failed GPU op leaves NaN behind: report the failure itself.
        try Trainer.synchronize(device)
        optimizer.zeroGrad()
        let step = progress.step + 1
        switch config.train.nanPolicy {
        case .stop:
            let last = FileManager.default.fileExists(atPath: runDirectory.lastURL.path) ? runDirectory.lastURL.path : nil
            runDirectory.log("stopped: \(what) is NaN/Inf at epoch \(progress.epoch + 1), step \(step)")
            throw EngineError.nonFinite(epoch: progress.epoch + 1, step: step, what: what, checkpoint: last)
        case .skip:
            progress.skippedSteps += 1
            runDirectory.log("skipped step \(step): \(what) is NaN/Inf (\(progress.skippedSteps) skipped so far)")
            observer?.note("skipped step \(step) (epoch \(progress.epoch + 1)): \(what) is NaN/Inf")
        }
    }

    static func correct(_ scores: Tensor, _ targets: Tensor) -> Int {
        let scores = scores.to(.cpu)
        let n = scores.shape[0], c = scores.shape[1]
        let s = scores.data, t = targets.int32Data
        var hits = 0
        for i in 0..<n where ClassificationMetrics.predictedClass(s + i * c, c) == Int(t[i]) { hits += 1 }
        return hits
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
