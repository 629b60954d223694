import Foundation

/// The saveable state of an `LRScheduler`, `Codable` for a checkpoint's JSON metadata.
/// Non-finite numbers (a plateau scheduler's initial best, ±∞) are encoded as the strings
/// `"inf"`, `"-inf"`, `"nan"` so that a default `JSONEncoder` accepts them.
public struct SchedulerState: Codable, Equatable, Sendable {
    /// The scheduler's schedule name (`LRSchedule.name`) or `"plateau"`.
    public var scheduler: String
    /// PyTorch's `last_epoch`.
    public var lastEpoch: Int
    /// The learning rate the schedule started from (PyTorch's `initial_lr` / `base_lrs`).
    public var baseLearningRate: Double
    /// The learning rate last set on the optimizer.
    public var learningRate: Double
    /// ReduceLROnPlateau's bookkeeping; nil for other schedulers.
    public var plateau: PlateauState?

    public init(scheduler: String, lastEpoch: Int, baseLearningRate: Double, learningRate: Double, plateau: PlateauState? = nil) {
        self.scheduler = scheduler
        self.lastEpoch = lastEpoch
        self.baseLearningRate = baseLearningRate
        self.learningRate = learningRate
        self.plateau = plateau
    }

    /// ReduceLROnPlateau's counters (PyTorch's `best`, `num_bad_epochs`, `cooldown_counter`).
    public struct PlateauState: Codable, Equatable, Sendable {
        public var best: Double
        public var numBadEpochs: Int
        public var cooldownCounter: Int

        public init(best: Double, numBadEpochs: Int, cooldownCounter: Int) {
            self.best = best
            self.numBadEpochs = numBadEpochs
            self.cooldownCounter = cooldownCounter
        }

        private enum CodingKeys: String, CodingKey { case best, numBadEpochs, cooldownCounter }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            best = try c.decodeExtendedDouble(forKey: .best)
            numBadEpochs = try c.decode(Int.self, forKey: .numBadEpochs)
            cooldownCounter = try c.decode(Int.self, forKey: .cooldownCounter)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeExtendedDouble(best, forKey: .best)
            try c.encode(numBadEpochs, forKey: .numBadEpochs)
            try c.encode(cooldownCounter, forKey: .cooldownCounter)
        }

        public static func == (a: Self, b: Self) -> Bool {
            (a.best == b.best || (a.best.isNaN && b.best.isNaN)) && a.numBadEpochs == b.numBadEpochs && a.cooldownCounter == b.cooldownCounter
        }
    }

    private enum CodingKeys: String, CodingKey { case scheduler, lastEpoch, baseLearningRate, learningRate, plateau }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scheduler = try c.decode(String.self, forKey: .scheduler)
        lastEpoch = try c.decode(Int.self, forKey: .lastEpoch)
        baseLearningRate = try c.decodeExtendedDouble(forKey: .baseLearningRate)
        learningRate = try c.decodeExtendedDouble(forKey: .learningRate)
        plateau = try c.decodeIfPresent(PlateauState.self, forKey: .plateau)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scheduler, forKey: .scheduler)
        try c.encode(lastEpoch, forKey: .lastEpoch)
        try c.encodeExtendedDouble(baseLearningRate, forKey: .baseLearningRate)
        try c.encodeExtendedDouble(learningRate, forKey: .learningRate)
        try c.encodeIfPresent(plateau, forKey: .plateau)
    }
}

extension KeyedEncodingContainer {
    /// Encodes finite values as numbers and ±∞/NaN as "inf"/"-inf"/"nan".
    mutating func encodeExtendedDouble(_ value: Double, forKey key: Key) throws {
        if value.isFinite { try encode(value, forKey: key); return }
        try encode(value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"), forKey: key)
    }
}

extension KeyedDecodingContainer {
    func decodeExtendedDouble(forKey key: Key) throws -> Double {
        if let v = try? decode(Double.self, forKey: key) { return v }
        let s = try decode(String.self, forKey: key)
        switch s {
        case "inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default:
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected a number, \"inf\", \"-inf\" or \"nan\", got \"\(s)\"")
        }
    }
}
