import NTrainCore
import NTrainNN

/// Builds the network a `ModelConfig` describes, inferring input sizes from the data's shape.
public enum ModelFactory {
    /// The model's output for one example must be `[1, outputs]` (one logit per class, or one value
    /// per regression target): the losses index logits by label with unchecked kernels, so a
    /// model with fewer outputs than classes is refused here, naming both.
    public static func make(_ config: ModelConfig, input: Shape, outputs: Int, seed: UInt64) throws -> Module {
        let model = try build(config, input: input, outputs: outputs, seed: seed)
        let produced: Shape
        do { produced = try model.outputShape(for: Shape([1] + input.dims)) } catch let error as ModuleError {
            throw EngineError.invalidModel("\(error) (model for input \(input))")
        }
        guard produced.dims == [1, outputs] else {
            let wanted = outputs == 1 ? "1 output per example (the regression target)" : "\(outputs) outputs per example (one per class)"
            let last = (config.layers?.count).map { "model.layers[\($0 - 1)]" } ?? "the model"
            let got = produced.dims.count == 2 ? "\(produced.dims[1]) outputs per example" : "output shape \(produced) per example"
            throw EngineError.invalidModel("the model gives \(got) but the data needs \(wanted); "
                + (config.layers == nil ? "set the model's outputs to \(outputs)"
                   : "end the layers with {\"linear\": {\"out\": \(outputs)}} (the last layer is \(last))"))
        }
        return model
    }

    /// Batch norm in training mode needs more than one value per channel (PyTorch raises
    /// "Expected more than 1 value per channel when training"); the kernel's own check is gone in
    /// the unchecked build, so every batch size an epoch can hold (a full batch and the last,
    /// partial one) is checked here, through every block. `input` is one example's shape.
    public static func checkTrainingBatches(_ model: Module, config: ModelConfig, input: Shape, batchSize: Int,
                                            sampleCount: Int, dropLast: Bool) throws {
        var sizes = [min(batchSize, sampleCount)]
        if !dropLast, sampleCount % batchSize != 0, sampleCount > batchSize { sizes.append(sampleCount % batchSize) }
        for size in sizes {
            try model.walkLayers(input: Shape([size] + input.dims)) { name, layer, shape in
                guard layer is BatchNorm, shape.dims.enumerated().filter({ $0.offset != 1 }).reduce(1, { $0 * $1.element }) <= 1 else { return }
                let path = config.layers != nil ? configPath(of: name) : "the model's \(name)"
                let which = size == batchSize ? "a training batch of \(size)" : "the last training batch of each epoch (\(size) of \(sampleCount) examples)"
                throw EngineError.invalidModel("\(path) (batch norm) would see 1 value per channel in \(which), input \(shape); "
                    + "batch norm needs more than one value per channel when training: raise data.batch_size"
                    + (size == batchSize ? "" : ", or set data.drop_last to true"))
            }
        }
    }

    /// `model.layers[4] (module 4.body.1)` for the module name `4.body.1` of a model built from
    /// `model.layers` (module names are dotted indices and block parts).
    static func configPath(of name: String) -> String {
        let parts = name.split(separator: ".", maxSplits: 1)
        guard let top = parts.first else { return "model.layers" }
        return "model.layers[\(top)]" + (parts.count > 1 ? " (module \(name))" : "")
    }

    private static func build(_ config: ModelConfig, input: Shape, outputs: Int, seed: UInt64) throws -> Module {
        let initializer = self.initializer(config.initialization, std: Float(config.initStd))
        if let layers = config.layers {
            var builder = LayerTreeBuilder(seed: seed, initializer: initializer)
            return try builder.sequence(layers, path: "model.layers", input: Shape([1] + input.dims)).0
        }
        do {
            guard let arch = config.arch, let builtin = BuiltinModel(rawValue: arch.rawValue) else {
                throw EngineError.invalidModel("unknown arch \(config.arch?.rawValue ?? "(none)")")
            }
            let options = BuiltinModel.Options(activation: config.activation.map(activation), pool: config.pool.map(pool),
                                               initializer: initializer, hidden: config.hidden, dropout: Float(config.dropout),
                                               width: config.width)
            return try builtin.make(input: input, outputs: outputs, options: options, seed: seed)
        } catch let error as ModuleError {
            throw EngineError.invalidModel("\(error) (model for input \(input) and \(outputs) outputs)")
        }
    }

    static func activation(_ a: Activation) -> NTrainNN.Activation.Kind {
        switch a {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(slope: 0.01)
        case .gelu: return .gelu
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        }
    }

    static func pool(_ p: PoolKind) -> Pool2d.Kind { p == .max ? .max : .average }

    static func initializer(_ s: InitScheme, std: Float) -> Initializer {
        switch s {
        case .kaimingUniform: return .kaimingUniform
        case .kaimingNormal: return .kaimingNormal
        case .xavierUniform: return .xavierUniform
        case .xavierNormal: return .xavierNormal
        case .normal: return .normal(std: std)
        }
    }
}
