import Foundation
import NTrainCore

/// About how much memory training a configured model takes, worked out from the config and the
/// data's shape before any weight is allocated, so that an oversized model is a config error
/// (exit 2) naming the layer, not an allocation failure that aborts the process.
///
/// Counted: the weights, their gradients and two optimizer slots (Adam's moments; SGD with
/// momentum has one) at 4 bytes each, and every layer's output at the training batch size twice
/// (the value kept for backward and its gradient). Built-in architectures other than `mlp` and
/// `linear` have fixed sizes and are not estimated.
public struct ModelMemoryEstimate: Equatable, Sendable {
    public struct Layer: Equatable, Sendable {
        /// `model.layers[3]`, or the built-in layer's name.
        public var path: String
        public var kind: String
        public var parameters: Double
        /// Values in one example's output.
        public var outputElements: Double
    }

    public var layers: [Layer]
    public var batchSize: Int

    public var parameters: Double { layers.reduce(0) { $0 + $1.parameters } }

    /// Bytes one layer needs: its weights with gradient and two optimizer slots, its output and
    /// that output's gradient for a whole batch.
    public func bytes(of layer: Layer) -> Double {
        4 * (4 * layer.parameters + 2 * Double(batchSize) * layer.outputElements)
    }

    public var bytes: Double { layers.reduce(0) { $0 + bytes(of: $1) } }

    /// The layers of `config` for examples of shape `input`, or nil when the model is a fixed
    /// built-in architecture or its shapes do not work out (the model builder then says why).
    public static func of(_ config: ModelConfig, input: Shape, outputs: Int, batchSize: Int) -> ModelMemoryEstimate? {
        let specs: [(String, LayerSpec)]
        if let layers = config.layers {
            specs = layers.enumerated().map { ("model.layers[\($0.offset)]", $0.element) }
        } else if config.arch == .mlp {
            specs = [("flatten", .flatten)] + config.hidden.enumerated().map { ("model.hidden[\($0.offset)]", .linear(out: $0.element, bias: true)) }
                + [("the output layer fc\(config.hidden.count + 1)", .linear(out: outputs, bias: true))]
        } else if config.arch == .linear {
            specs = [("flatten", .flatten), ("fc", .linear(out: outputs, bias: true))]
        } else {
            return nil
        }
        var layers: [Layer] = []
        guard walk(specs, input.dims.map(Double.init), &layers) != nil else { return nil }
        return ModelMemoryEstimate(layers: layers, batchSize: batchSize)
    }

    /// Appends the layers of `specs` (blocks opened: every path's layers, then the merge's output
    /// as its own entry) and returns the output dims, or nil when the shapes do not fit.
    private static func walk(_ specs: [(String, LayerSpec)], _ input: [Double], _ layers: inout [Layer]) -> [Double]? {
        var dims = input
        for (path, spec) in specs {
            func nested(_ list: [LayerSpec], _ at: String) -> [(String, LayerSpec)] {
                list.enumerated().map { ("\(at)[\($0.offset)]", $0.element) }
            }
            switch spec {
            case .residual(let o):
                guard let body = walk(nested(o.body, path + ".residual.body"), dims, &layers),
                      let shortcut = walk(nested(o.shortcut, path + ".residual.shortcut"), dims, &layers), body == shortcut else { return nil }
                dims = body
            case .branches(let o):
                var outputs: [[Double]] = []
                for (i, p) in o.paths.enumerated() {
                    guard let out = walk(nested(p, path + ".branches.paths[\(i)]"), dims, &layers) else { return nil }
                    outputs.append(out)
                }
                guard let first = outputs.first else { return nil }
                if o.merge == .concat {
                    guard outputs.allSatisfy({ $0.count == first.count && $0.dropFirst() == first.dropFirst() }) else { return nil }
                    dims = [outputs.reduce(0) { $0 + $1[0] }] + first.dropFirst()
                } else {
                    guard outputs.allSatisfy({ $0 == first }) else { return nil }
                    dims = first
                }
            case let .repeated(times, list):
                for _ in 0..<times {
                    guard let out = walk(nested(list, path + ".repeat.layers"), dims, &layers) else { return nil }
                    dims = out
                }
                continue
            default:
                guard let (parameters, next) = step(spec, dims) else { return nil }
                dims = next
                layers.append(Layer(path: path, kind: spec.kind, parameters: parameters, outputElements: dims.reduce(1, *)))
                continue
            }
            // The merged output of a block is a tensor of its own (and its gradient).
            layers.append(Layer(path: path, kind: spec.kind, parameters: 0, outputElements: dims.reduce(1, *)))
        }
        return dims
    }

    /// Parameters of one layer and its output dims (one example), in Double so that no size
    /// overflows; nil when the shapes do not fit.
    private static func step(_ spec: LayerSpec, _ dims: [Double]) -> (Double, [Double])? {
        func spatial(_ size: Double, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Double {
            ((size + 2 * Double(padding) - Double(dilation) * Double(kernel - 1) - 1) / Double(stride)).rounded(.down) + 1
        }
        switch spec {
        case let .linear(out, bias):
            let features = dims.reduce(1, *)
            return (features * Double(out) + (bias ? Double(out) : 0), [Double(out)])
        case .conv2d(let o):
            guard dims.count == 3, o.groups > 0 else { return nil }
            let h = spatial(dims[1], kernel: o.kernel.first, stride: o.stride.first, padding: o.padding.first, dilation: o.dilation.first)
            let w = spatial(dims[2], kernel: o.kernel.second, stride: o.stride.second, padding: o.padding.second, dilation: o.dilation.second)
            guard h >= 1, w >= 1 else { return nil }
            let weights = Double(o.out) * (dims[0] / Double(o.groups)).rounded(.down) * Double(o.kernel.first * o.kernel.second)
            return (weights + (o.bias ? Double(o.out) : 0), [Double(o.out), h, w])
        case .maxPool2d(let o), .avgPool2d(let o):
            guard dims.count == 3 else { return nil }
            let h = spatial(dims[1], kernel: o.kernel.first, stride: o.stride.first, padding: o.padding.first, dilation: 1)
            let w = spatial(dims[2], kernel: o.kernel.second, stride: o.stride.second, padding: o.padding.second, dilation: 1)
            guard h >= 1, w >= 1 else { return nil }
            return (0, [dims[0], h, w])
        case .batchNorm1d(let o), .batchNorm2d(let o):
            return (o.affine ? 2 * (dims.first ?? 1) : 0, dims)
        case .flatten:
            return (0, [dims.reduce(1, *)])
        case .globalAvgPool2d:
            guard dims.count == 3 else { return nil }
            return (0, [dims[0], 1, 1])
        default:
            return (0, dims)
        }
    }

    /// The default limit: 80% of the memory this process may use: physical memory, or the
    /// container's cgroup limit when that is lower.
    public static var defaultLimitBytes: Double {
        var available = Double(ProcessInfo.processInfo.physicalMemory)
        if let limit = cgroupMemoryLimit() { available = min(available, limit) }
        return 0.8 * available
    }

    /// cgroup v2's memory.max, or v1's memory.limit_in_bytes; nil when unlimited or absent.
    static func cgroupMemoryLimit(files: [String] = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) -> Double? {
        for path in files {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            // v1 reports "no limit" as a huge number near 2^63.
            if value > 0 && value < 1e18 { return value }
        }
        return nil
    }

    /// Throws a model error when the estimate is over `limitGiB` (nil: `defaultLimitBytes`).
    public func check(limitGiB: Double?) throws {
        let limit = limitGiB.map { $0 * Self.gib } ?? Self.defaultLimitBytes
        guard bytes > limit else { return }
        let biggest = layers.max { bytes(of: $0) < bytes(of: $1) }!
        let source = limitGiB == nil ? "80% of this machine's memory (or its container's limit); set train.memory_limit (GiB) to change it" : "train.memory_limit"
        throw EngineError.invalidModel(
            "training this model needs about \(Self.format(bytes)) at batch size \(batchSize) "
            + "(\(Self.count(parameters)) parameters), over the limit of \(Self.format(limit)) (\(source)); "
            + "\(biggest.path) (\(biggest.kind), \(Self.count(biggest.parameters)) parameters, \(Self.count(biggest.outputElements)) outputs per example) "
            + "alone needs about \(Self.format(bytes(of: biggest))). Make that layer smaller or lower data.batch_size")
    }

    static let gib = 1024.0 * 1024 * 1024

    /// "1.5 GiB", "312 MiB".
    public static func format(_ bytes: Double) -> String {
        bytes >= gib ? String(format: "%.1f GiB", bytes / gib) : String(format: "%.0f MiB", max(1, bytes / (1024 * 1024)))
    }

    static func count(_ n: Double) -> String {
        n < 1e15 ? NumberFormatter.localizedString(from: NSNumber(value: Int64(n)), number: .decimal) : String(format: "%.3g", n)
    }
}
