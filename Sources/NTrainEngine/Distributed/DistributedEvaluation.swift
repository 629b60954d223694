import NTrainCore
import NTrainNN

extension EvaluationResult {
    /// The result over every rank's shard of the evaluation set: the running sums added up, so
    /// every rank gets what one process evaluating all of it would (up to float64 rounding).
    func summed(over group: any ProcessGroup) throws -> EvaluationResult {
        guard group.size > 1 else { return self }
        switch self {
        case .classification(var m):
            var sums = m.sums
            try group.sum(&sums)
            m.sums = sums
            return .classification(m)
        case .regression(var m):
            var sums = m.sums
            try group.sum(&sums)
            m.sums = sums
            return .regression(m)
        }
    }
}
