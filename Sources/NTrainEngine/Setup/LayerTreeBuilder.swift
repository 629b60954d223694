import NTrainCore
import NTrainNN

/// Builds `model.layers` (a tree: blocks hold layer lists of their own) into modules, inferring
/// each layer's input size from the shape before it. A layer or a merge that does not fit is an
/// `EngineError.invalidModel` naming its config path (`model.layers[4].residual.body[2]`) and the
/// shapes involved.
struct LayerTreeBuilder {
    var generator: RandomGenerator
    let initializer: Initializer
    let seed: UInt64
    /// Layers visited so far, depth first: layer k's dropout draws from `seed + k`, so a plain
    /// stack keeps the seeds it had before blocks existed (`seed + index`).
    private var visited: UInt64 = 0

    init(seed: UInt64, initializer: Initializer) {
        generator = RandomGenerator(seed: seed)
        self.initializer = initializer
        self.seed = seed
    }

    /// The layers at `path` (`model.layers`) for input `shape` (batch dimension included), as a
    /// `Sequential` whose children are named by index.
    mutating func sequence(_ specs: [LayerSpec], path: String, input shape: Shape) throws -> (Sequential, Shape) {
        var b = SequentialBuilder(input: shape, generator: generator)
        for (i, spec) in specs.enumerated() {
            let here = "\(path)[\(i)]"
            generator = b.generator
            let module = try self.module(spec, path: here, input: b.shape)
            b.generator = generator
            do { try b.add(module) } catch let error as ModuleError {
                throw EngineError.invalidModel("\(here) (\(spec.kind)) does not fit its input \(b.shape): \(Self.reason(error))")
            }
        }
        generator = b.generator
        return (b.build(), b.shape)
    }

    private mutating func module(_ spec: LayerSpec, path: String, input shape: Shape) throws -> Module {
        let index = visited
        visited += 1
        let channels = shape.rank > 1 ? shape[1] : 1
        do {
            switch spec {
            case let .linear(out, bias):
                return Linear(shape.dims.dropFirst().reduce(1, *), out, bias: bias, initializer: initializer, generator: &generator)
            case .conv2d(let o):
                let conv = try Conv2d(channels, o.out, kernel: (o.kernel.first, o.kernel.second), stride: (o.stride.first, o.stride.second),
                                      padding: (o.padding.first, o.padding.second), dilation: (o.dilation.first, o.dilation.second),
                                      groups: o.groups, bias: o.bias, initializer: initializer, generator: &generator)
                switch o.initialization {
                case .dirac?:
                    guard o.groups == 1 else { throw EngineError.invalidModel("\(path).conv2d.init: dirac needs groups 1") }
                    PatchWhitening.diracInitialize(conv)
                case .patchWhitening?:
                    let patch = channels * o.kernel.first * o.kernel.second
                    // The eigen-decomposition is O(patch³) per sweep: 256 (e.g. 3 channels, 9x9) takes a second.
                    guard patch <= 256 else {
                        throw EngineError.invalidModel("\(path).conv2d.init: patch_whitening of \(o.kernel.first)x\(o.kernel.second) patches of "
                            + "\(channels) channels needs a \(patch)x\(patch) eigen-decomposition; at most 256 values per patch are supported (use a smaller kernel)")
                    }
                    guard path == "model.layers[0]", o.groups == 1, o.dilation == IntPair(1, 1), o.out == 2 * patch else {
                        throw EngineError.invalidModel("\(path).conv2d.init: patch_whitening is for the first layer (model.layers[0]) "
                            + "with groups 1, dilation 1 and out = 2 x channels x kernel area = \(2 * patch) here (got out \(o.out))")
                    }
                case nil: break
                }
                return conv
            case .maxPool2d(let o), .avgPool2d(let o):
                let kind: Pool2d.Kind = { if case .maxPool2d = spec { return .max } else { return .average } }()
                return try Pool2d(kind, kernel: (o.kernel.first, o.kernel.second), stride: (o.stride.first, o.stride.second),
                                  padding: (o.padding.first, o.padding.second))
            case .batchNorm1d(let o), .batchNorm2d(let o):
                let spatial: Bool = { if case .batchNorm2d = spec { return true } else { return false } }()
                return BatchNorm(features: channels, spatial: spatial, eps: Float(o.eps), momentum: Float(o.momentum), affine: o.affine)
            case .dropout(let p): return try Dropout(p: Float(p), seed: seed &+ index)
            case .flatten: return Flatten()
            case .relu: return NTrainNN.Activation(.relu)
            case .leakyRelu(let slope): return NTrainNN.Activation(.leakyRelu(slope: Float(slope)))
            case .gelu: return NTrainNN.Activation(.gelu)
            case .sigmoid: return NTrainNN.Activation(.sigmoid)
            case .tanh: return NTrainNN.Activation(.tanh)
            case .softmax(let axis): return NTrainNN.Activation(.softmax(axis: axis))
            case .logSoftmax(let axis): return NTrainNN.Activation(.logSoftmax(axis: axis))
            case .identity: return Identity()
            case .globalAvgPool2d: return GlobalAvgPool2d()
            case .scale(let factor): return Scale(Float(factor))
            case .residual(let o):
                let (body, bodyShape) = try sequence(o.body, path: path + ".residual.body", input: shape)
                let (shortcut, shortcutShape) = try sequence(o.shortcut, path: path + ".residual.shortcut", input: shape)
                try merge([bodyShape, shortcutShape], .add, names: ["body", "shortcut"], path: path + ".residual")
                return Branches.residual(body: body, shortcut: shortcut, activation: o.activation.map { NTrainNN.Activation(ModelFactory.activation($0)) })
            case .branches(let o):
                var paths: [Sequential] = [], shapes: [Shape] = []
                for (i, layers) in o.paths.enumerated() {
                    let (p, s) = try sequence(layers, path: path + ".branches.paths[\(i)]", input: shape)
                    paths.append(p)
                    shapes.append(s)
                }
                let merge: Branches.Merge = o.merge == .add ? .add : .concat
                try self.merge(shapes, merge, names: o.paths.indices.map { "paths[\($0)]" }, path: path + ".branches")
                return Branches(paths, merge: merge, activation: o.activation.map { NTrainNN.Activation(ModelFactory.activation($0)) })
            case let .repeated(times, layers):
                var blocks: [Module] = []
                var s = shape
                for r in 0..<times {
                    do {
                        let (block, next) = try sequence(layers, path: path + ".repeat.layers", input: s)
                        blocks.append(block)
                        s = next
                    } catch EngineError.invalidModel(let message) where times > 1 {
                        throw EngineError.invalidModel(message + " (in repetition \(r + 1) of \(times))")
                    }
                }
                return Sequential(blocks)
            }
        } catch let error as ModuleError {
            throw EngineError.invalidModel("\(path) (\(spec.kind)): \(Self.reason(error)) (input \(shape))")
        }
    }

    private func merge(_ shapes: [Shape], _ merge: Branches.Merge, names: [String], path: String) throws {
        do { _ = try Branches.merged(shapes, merge: merge, names: names) } catch let error as ModuleError {
            throw EngineError.invalidModel("\(path): \(Self.reason(error))")
        }
    }

    /// The message of a module error without the layer prefix the path replaces.
    static func reason(_ error: ModuleError) -> String {
        if case let .invalidOption(_, message) = error { return message }
        return error.description
    }
}
