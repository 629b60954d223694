import NTrainCore

/// PyTorch's parameter groups (`torch.optim.SGD([{"params": ..., "lr": ...}, ...])`): each group
/// of parameters is stepped by its own optimizer of one kind, with its own weight decay and a
/// learning rate that is a fixed multiple (`learningRateScale`) of the shared one that schedulers
/// set. For these optimizers a parameter's update depends only on its own group's settings, so
/// this is exactly PyTorch's behaviour; a scale of 0 freezes a group.
///
/// State entries keep the model-wide parameter numbering (`"7.momentum_buffer"`), as PyTorch's
/// `state_dict()` numbers parameters across groups.
public final class ParameterGroups: Optimizer {
    public struct Group {
        public var optimizer: any Optimizer
        public var learningRateScale: Float
        /// Positions of the group's parameters in `parameters`.
        public var indices: [Int]

        public init(optimizer: any Optimizer, learningRateScale: Float, indices: [Int]) {
            self.optimizer = optimizer
            self.learningRateScale = learningRateScale
            self.indices = indices
        }
    }

    public let name: String
    public let parameters: [Tensor]
    public let groups: [Group]
    private let owner: [(group: Int, local: Int)]

    public var learningRate: Float {
        didSet { for g in groups { g.optimizer.learningRate = learningRate * g.learningRateScale } }
    }

    /// `groups` must cover each of `parameters` exactly once, with optimizers of one kind.
    /// The first group's; setting it sets every group's (they share one schedule).
    public var cycledMomentum: Float? {
        get { groups.lazy.compactMap { $0.optimizer.cycledMomentum }.first }
        set { for g in groups { g.optimizer.cycledMomentum = newValue } }
    }

    public init(parameters: [Tensor], groups: [Group], learningRate: Float) {
        precondition(!groups.isEmpty && Set(groups.map(\.optimizer.name)).count == 1, "parameter groups need optimizers of one kind")
        var owner = Array(repeating: (group: -1, local: -1), count: parameters.count)
        for (g, group) in groups.enumerated() {
            precondition(group.indices.count == group.optimizer.parameters.count, "group \(g): indices and parameters differ in count")
            for (local, i) in group.indices.enumerated() {
                precondition(owner[i].group < 0 && group.optimizer.parameters[local] === parameters[i], "parameter \(i) must be in exactly one group")
                owner[i] = (g, local)
            }
        }
        precondition(owner.allSatisfy { $0.group >= 0 }, "every parameter must be in a group")
        name = groups[0].optimizer.name
        self.parameters = parameters
        self.groups = groups
        self.owner = owner
        self.learningRate = learningRate
        for g in groups { g.optimizer.learningRate = learningRate * g.learningRateScale }
    }

    public func step() {
        for g in groups { g.optimizer.step() }
    }

    public func stateDict() -> OptimizerState {
        var out = OptimizerState(optimizer: name)
        out.scalars["lr"] = Double(learningRate)
        for g in groups {
            let state = g.optimizer.stateDict()
            for (key, t) in state.tensors { if let k = renumbered(key, g.indices) { out.tensors[k] = t } }
            for (key, v) in state.scalars where key != "lr" { if let k = renumbered(key, g.indices) { out.scalars[k] = v } }
        }
        return out
    }

    public func load(state: OptimizerState) throws {
        guard state.optimizer == name else { throw OptimizerStateError.wrongOptimizer(expected: name, found: state.optimizer) }
        guard let lr = state.scalars["lr"] else { throw OptimizerStateError.missingEntry("lr", optimizer: name) }
        guard lr.isFinite, lr >= 0 else { throw OptimizerStateError.invalidScalar(entry: "lr", value: lr) }
        var parts = groups.map { g in
            var s = OptimizerState(optimizer: name)
            s.scalars["lr"] = Double(Float(lr) * g.learningRateScale)
            return s
        }
        func place(_ key: String) throws -> (Int, String) {
            guard let dot = key.firstIndex(of: "."), let i = Int(key[..<dot]) else { throw OptimizerStateError.unknownEntry(key, optimizer: name) }
            guard i >= 0, i < parameters.count else { throw OptimizerStateError.parameterOutOfRange(entry: key, parameterCount: parameters.count) }
            return (owner[i].group, "\(owner[i].local)" + key[dot...])
        }
        for (key, t) in state.tensors {
            let (g, k) = try place(key)
            parts[g].tensors[k] = t
        }
        for (key, v) in state.scalars where key != "lr" {
            let (g, k) = try place(key)
            parts[g].scalars[k] = v
        }
        // Each group checks its part before changing anything; when a later group refuses its
        // part, the groups already loaded get their previous state back.
        let saved = groups.map { $0.optimizer.stateDict() }
        do {
            for (g, part) in parts.enumerated() { try groups[g].optimizer.load(state: part) }
        } catch {
            for (g, s) in saved.enumerated() { try? groups[g].optimizer.load(state: s) }
            throw error
        }
        learningRate = Float(lr)
    }

    private func renumbered(_ key: String, _ indices: [Int]) -> String? {
        guard let dot = key.firstIndex(of: "."), let local = Int(key[..<dot]), local < indices.count else { return nil }
        return "\(indices[local])" + key[dot...]
    }
}
