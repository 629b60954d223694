import NTrainCore
import NTrainNN

/// Builds the network a `ModelConfig` describes, inferring input sizes from the data's shape.
public enum ModelFactory {
    /// The model's output for one example must be `[1, outputs]` (one logit per class, or one value
    /// per regression target): the losses index logits by label with unchecked kernels, so a
    /// model with fewer outputs than classes is refused here, naming both.
    public static func make(_ config: ModelConfig, input: Shape, outputs: Int, seed: UInt64) throws -> Sequential {
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
    /// partial one) is checked here. `input` is one example's shape.
    public static func checkTrainingBatches(_ model: Sequential, config: ModelConfig, input: Shape, batchSize: Int,
                                            sampleCount: Int, dropLast: Bool) throws {
        var sizes = [min(batchSize, sampleCount)]
        if !dropLast, sampleCount % batchSize != 0, sampleCount > batchSize { sizes.append(sampleCount % batchSize) }
        for size in sizes {
            var shape = Shape([size] + input.dims)
            for (index, (name, layer)) in model.layers.enumerated() {
                if layer is BatchNorm {
                    let perChannel = shape.dims.enumerated().filter { $0.offset != 1 }.reduce(1) { $0 * $1.element }
                    if perChannel <= 1 {
                        let path = config.layers != nil ? "model.layers[\(index)]" : "the model's \(name)"
                        let which = size == batchSize ? "a training batch of \(size)" : "the last training batch of each epoch (\(size) of \(sampleCount) examples)"
                        throw EngineError.invalidModel("\(path) (batch norm) would see 1 value per channel in \(which), input \(shape); "
                            + "batch norm needs more than one value per channel when training: raise data.batch_size"
                            + (size == batchSize ? "" : ", or set data.drop_last to true"))
                    }
                }
                shape = try layer.outputShape(for: shape)
            }
        }
    }

    private static func build(_ config: ModelConfig, input: Shape, outputs: Int, seed: UInt64) throws -> Sequential {
        let initializer = self.initializer(config.initialization, std: Float(config.initStd))
        do {
            if let arch = config.arch {
                guard let builtin = BuiltinModel(rawValue: arch.rawValue) else {
                    throw EngineError.invalidModel("unknown arch \(arch.rawValue)")
                }
                let options = BuiltinModel.Options(activation: config.activation.map(activation), pool: config.pool.map(pool),
                                                   initializer: initializer, hidden: config.hidden, dropout: Float(config.dropout),
                                                   width: config.width)
                return try builtin.make(input: input, outputs: outputs, options: options, seed: seed)
            }
            var b = SequentialBuilder(input: Shape([1] + input.dims), generator: RandomGenerator(seed: seed))
            for (i, spec) in (config.layers ?? []).enumerated() {
                try b.add(try layer(spec, builder: &b, initializer: initializer, seed: seed &+ UInt64(i)))
            }
            return b.build()
        } catch let error as ModuleError {
            throw EngineError.invalidModel("\(error) (model for input \(input) and \(outputs) outputs)")
        }
    }

    static func layer(_ spec: LayerSpec, builder b: inout SequentialBuilder, initializer: Initializer, seed: UInt64) throws -> Module {
        switch spec {
        case let .linear(out, bias):
            return Linear(b.flatFeatures, out, bias: bias, initializer: initializer, generator: &b.generator)
        case .conv2d(let o):
            return try Conv2d(b.channels, o.out, kernel: (o.kernel.first, o.kernel.second), stride: (o.stride.first, o.stride.second),
                              padding: (o.padding.first, o.padding.second), dilation: (o.dilation.first, o.dilation.second),
                              groups: o.groups, bias: o.bias, initializer: initializer, generator: &b.generator)
        case .maxPool2d(let o), .avgPool2d(let o):
            let kind: Pool2d.Kind = { if case .maxPool2d = spec { return .max } else { return .average } }()
            return try Pool2d(kind, kernel: (o.kernel.first, o.kernel.second), stride: (o.stride.first, o.stride.second),
                              padding: (o.padding.first, o.padding.second))
        case .batchNorm1d(let o), .batchNorm2d(let o):
            let spatial: Bool = { if case .batchNorm2d = spec { return true } else { return false } }()
            return BatchNorm(features: b.channels, spatial: spatial, eps: Float(o.eps), momentum: Float(o.momentum))
        case .dropout(let p): return try Dropout(p: Float(p), seed: seed)
        case .flatten: return Flatten()
        case .relu: return NTrainNN.Activation(.relu)
        case .leakyRelu(let slope): return NTrainNN.Activation(.leakyRelu(slope: Float(slope)))
        case .gelu: return NTrainNN.Activation(.gelu)
        case .sigmoid: return NTrainNN.Activation(.sigmoid)
        case .tanh: return NTrainNN.Activation(.tanh)
        case .softmax(let axis): return NTrainNN.Activation(.softmax(axis: axis))
        case .logSoftmax(let axis): return NTrainNN.Activation(.logSoftmax(axis: axis))
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
