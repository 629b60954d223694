/// One training batch's loss and counts over every rank, from one small allreduce: what the NaN
/// guard decides, what is logged, and whether any rank was asked to stop (Ctrl-C, SIGTERM), so
/// that every rank makes the same decision at the same step. With one process it is the
/// batch's own values and no collective runs.
struct StepStatistics {
    /// Whether the loss is finite on every rank.
    let allFinite: Bool
    /// Σ loss·n over the ranks (the batch-mean losses weighted by their batch sizes).
    let lossSum: Double
    /// The samples of this step over the ranks.
    let count: Int
    let correct: Int
    /// The loss of the whole step: the mean over all its samples.
    let meanLoss: Double
    /// Whether any rank has a stop request pending.
    let stopRequested: Bool

    init(loss: Float, count: Int, correct: Int, group: any ProcessGroup) throws {
        guard group.size > 1 else {
            allFinite = loss.isFinite
            lossSum = Double(loss) * Double(count)
            self.count = count
            self.correct = correct
            meanLoss = Double(loss)
            stopRequested = Interrupt.requested
            return
        }
        let finite = loss.isFinite
        var values = [finite ? 0 : 1, finite ? Double(loss) * Double(count) : 0, Double(count), Double(correct), Interrupt.requested ? 1 : 0]
        try group.sum(&values)
        allFinite = values[0] == 0
        lossSum = values[1]
        self.count = Int(values[2])
        self.correct = Int(values[3])
        meanLoss = values[1] / max(1, values[2])
        stopRequested = values[4] > 0
    }
}
