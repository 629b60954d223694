import NTrainCore

/// An exponential moving average of a model's weights and buffers, as timm's `ModelEmaV2`: after
/// each optimizer step every float entry of the state dict becomes `decay · ema + (1 − decay) · v`
/// (BN running statistics included); integer buffers are copied. Evaluating with
/// `withAverage(in:)` swaps the averages in and the live weights back afterwards.
public final class ModelEMA {
    public let decay: Float
    /// The averages, by state-dict name, on the model's device.
    public private(set) var state: [(String, Tensor)]

    /// Starts the average at the model's current values.
    public init(_ model: Module, decay: Float) {
        precondition(decay > 0 && decay < 1, "EMA decay must be in (0, 1), got \(decay)")
        self.decay = decay
        state = model.stateDict().map { ($0.0, $0.1.copy()) }
    }

    /// Folds the model's current values into the averages.
    public func update(from model: Module) {
        let live = model.stateDict()
        precondition(live.map(\.0) == state.map(\.0), "EMA: the model's state dict changed")
        noGrad {
            for ((_, average), (_, value)) in zip(state, live) {
                if value.dtype == .float32 {
                    average.assign(average * decay + value * (1 - decay))
                } else {
                    average.assign(value)
                }
            }
        }
    }

    /// Replaces the averages (a resumed run's); names and shapes must match.
    public func load(_ saved: [String: Tensor]) throws {
        let missing = state.map(\.0).filter { saved[$0] == nil }
        guard missing.isEmpty, saved.count == state.count else {
            throw ModuleError.stateMismatch(missing: missing, unexpected: saved.keys.filter { k in !state.contains { $0.0 == k } }.sorted())
        }
        for (name, average) in state {
            let t = saved[name]!
            guard t.shape == average.shape, t.dtype == average.dtype else {
                throw ModuleError.shapeMismatch(name: name, expected: average.shape, expectedType: average.dtype, got: t.shape, gotType: t.dtype)
            }
            average.assign(t.to(average.device))
        }
    }

    /// Runs `body` with the averages in `model`, then puts the live values back.
    public func withAverage<T>(in model: Module, _ body: () throws -> T) rethrows -> T {
        let live = model.stateDict()
        let kept = live.map { $0.1.copy() }
        for ((_, t), (_, average)) in zip(live, state) { t.assign(average) }
        defer { for ((_, t), saved) in zip(live, kept) { t.assign(saved) } }
        return try body()
    }
}
