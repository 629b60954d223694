import NTrainCore

/// Inverted dropout (PyTorch's `nn.Dropout`): in training zeroes each element with probability p
/// and scales the rest by 1/(1−p); identity in eval. Its generator state is a buffer
/// (`rng_state`), so checkpoints resume the exact same masks.
public final class Dropout: Module {
    public let p: Float
    /// The generator's four state words, stored as int64 bit patterns.
    public let generatorState: Tensor

    public init(p: Float, seed: UInt64) throws {
        guard p >= 0, p < 1 else {
            throw ModuleError.invalidOption(layer: "dropout", message: "p must be in [0, 1), got \(p)")
        }
        self.p = p
        generatorState = Tensor(uninitialized: [4], dtype: .int64)
        super.init()
        store(RandomGenerator(seed: seed))
    }

    private func store(_ g: RandomGenerator) {
        for i in 0..<4 { generatorState.int64Data[i] = Int64(bitPattern: g.state[i]) }
    }

    public override func forward(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        var g = RandomGenerator(state: (0..<4).map { UInt64(bitPattern: generatorState.int64Data[$0]) })
        let out = input.dropout(p: p, training: true, generator: &g)
        store(g)
        return out
    }

    public override var localBuffers: [(String, Tensor)] { [("rng_state", generatorState)] }
    public override var summary: String { "Dropout(p: \(p))" }
}
