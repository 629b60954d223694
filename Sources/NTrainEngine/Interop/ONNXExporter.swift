import Foundation
import NTrainCore
import NTrainNN
import SwiftProtobuf

/// The eval-mode graph of a checkpoint's model as an ONNX `ModelProto` (docs/interop.md): input
/// `input` `[N, ...]` with a symbolic batch size, output `logits`, one initializer per parameter or
/// buffer under its state-dict name. Dropout is left out, batch norm kept as BatchNormalization
/// (exact, and runtimes fold it themselves), GELU written with Erf (the exact form ntrain trains).
public struct ONNXExporter {
    /// The default operator set: every op used here exists at opset 17 with the semantics written,
    /// and every onnxruntime since 1.13 runs it.
    public static let opset = 17
    /// The IR version that goes with opset 17.
    static let irVersion: Int64 = 8

    public let model: Onnx_ModelProto

    public init(source: CheckpointModel) throws {
        var graph = ONNXGraphBuilder()
        let output = try graph.emit(source.model, name: "", input: "input")
        graph.rename(output, to: "logits")
        var g = Onnx_GraphProto()
        g.name = source.config.name
        g.node = graph.nodes
        g.initializer = graph.initializers
        let outputs = source.isRegression ? 1 : source.classNames.count
        g.input = [Self.valueInfo("input", dims: [nil] + source.inputShape.dims)]
        g.output = [Self.valueInfo("logits", dims: [nil, outputs])]
        var m = Onnx_ModelProto()
        m.irVersion = Self.irVersion
        m.producerName = "ntrain"
        m.producerVersion = NTrainVersion.string
        m.docString = "Exported by ntrain from \(URL(fileURLWithPath: source.path).lastPathComponent)"
            + (source.usesAverage ? " (moving-average weights)" : "")
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(Self.opset)
        m.opsetImport = [opset]
        m.graph = g
        m.metadataProps = source.exportMetadata.sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        model = m
    }

    public func serialized() throws -> Data { try model.serializedData() }

    /// A float tensor value with `nil` dimensions symbolic (`N`, the batch).
    static func valueInfo(_ name: String, dims: [Int?]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "N" }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }
}

/// Walks a module tree and emits ONNX nodes, one module at a time.
struct ONNXGraphBuilder {
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    private var used: Set<String> = ["input", "logits"]

    /// A value name not used yet, from `hint`.
    mutating func fresh(_ hint: String) -> String {
        var name = hint.isEmpty ? "value" : hint
        var k = 1
        while used.contains(name) {
            name = "\(hint)_\(k)"
            k += 1
        }
        used.insert(name)
        return name
    }

    /// Appends a node and returns its output's name.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], name: String, _ attributes: [Onnx_AttributeProto] = []) -> String {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = fresh((name.isEmpty ? "" : name + "/") + op)
        n.input = inputs
        let output = fresh((name.isEmpty ? "" : name + ".") + op.lowercased())
        n.output = [output]
        n.attribute = attributes
        nodes.append(n)
        return output
    }

    /// Registers a float tensor as an initializer and returns its name.
    mutating func constant(_ name: String, _ tensor: Tensor) -> String {
        let host = tensor.to(.cpu)
        var t = Onnx_TensorProto()
        t.name = fresh(name)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.dims = host.shape.dims.map(Int64.init)
        t.rawData = Data(bytes: host.storage.bytes, count: host.count * 4)
        initializers.append(t)
        return t.name
    }

    /// Renames the value `old` (the graph's last output) to `new`; an input passed straight
    /// through gets an Identity node.
    mutating func rename(_ old: String, to new: String) {
        if let i = nodes.lastIndex(where: { $0.output == [old] }) {
            nodes[i].output = [new]
        } else {
            var n = Onnx_NodeProto()
            n.opType = "Identity"
            n.name = fresh("output/Identity")
            n.input = [old]
            n.output = [new]
            nodes.append(n)
        }
    }

    /// Emits `module` (named `name` in the state dict) applied to the value `input`.
    mutating func emit(_ module: Module, name: String, input: String) throws -> String {
        func child(_ local: String) -> String { name.isEmpty ? local : name + "." + local }
        switch module {
        case let m as Sequential:
            var x = input
            for (local, layer) in m.layers { x = try emit(layer, name: child(local), input: x) }
            return x
        case let m as Conv2d:
            var inputs = [input, constant(child("weight"), m.weight)]
            if let b = m.bias { inputs.append(constant(child("bias"), b)) }
            return node("Conv", inputs, name: name, [
                .ints("kernel_shape", [m.kernel.0, m.kernel.1]), .ints("strides", [m.stride.0, m.stride.1]),
                .ints("pads", [m.padding.0, m.padding.1, m.padding.0, m.padding.1]),
                .ints("dilations", [m.dilation.0, m.dilation.1]), .int("group", m.groups),
            ])
        case let m as BatchNorm:
            let scale = m.weight.map { constant(child("weight"), $0) } ?? constant(child("weight"), Tensor.ones([m.features]))
            let bias = m.bias.map { constant(child("bias"), $0) } ?? constant(child("bias"), Tensor.zeros([m.features]))
            return node("BatchNormalization",
                        [input, scale, bias, constant(child("running_mean"), m.runningMean), constant(child("running_var"), m.runningVar)],
                        name: name, [.float("epsilon", m.eps), .float("momentum", 1 - m.momentum)])
        case let m as Linear:
            var inputs = [input, constant(child("weight"), m.weight)]
            if let b = m.bias { inputs.append(constant(child("bias"), b)) }
            return node("Gemm", inputs, name: name, [.int("transB", 1)])
        case let m as NTrainNN.Activation:
            return try activation(m.kind, name: name, input: input)
        case let m as Pool2d:
            var attributes: [Onnx_AttributeProto] = [.ints("kernel_shape", [m.kernel.0, m.kernel.1]), .ints("strides", [m.stride.0, m.stride.1]),
                              .ints("pads", [m.padding.0, m.padding.1, m.padding.0, m.padding.1])]
            if m.kind == .average { attributes.append(.int("count_include_pad", 1)) }
            return node(m.kind == .max ? "MaxPool" : "AveragePool", [input], name: name, attributes)
        case is GlobalAvgPool2d:
            return node("GlobalAveragePool", [input], name: name)
        case let m as Flatten:
            guard m.startAxis == 1 else {
                throw InteropError.unsupportedLayer(format: "ONNX", layer: name, reason: "Flatten from axis \(m.startAxis); only axis 1 (keep the batch) maps to ONNX Flatten")
            }
            return node("Flatten", [input], name: name, [.int("axis", 1)])
        case let m as Scale:
            return node("Mul", [input, constant(child("factor"), Tensor(m.factor))], name: name)
        case is Dropout, is Identity:
            return input  // the identity in evaluation
        case let m as Branches:
            var outputs: [String] = []
            for (local, path) in zip(m.pathNames, m.paths) { outputs.append(try emit(path, name: child(local), input: input)) }
            var merged = outputs[0]
            switch m.merge {
            case .add:
                for y in outputs.dropFirst() { merged = node("Add", [merged, y], name: name) }
            case .concat:
                if outputs.count > 1 { merged = node("Concat", outputs, name: name, [.int("axis", 1)]) }
            }
            return try m.activation.map { try activation($0.kind, name: child("activation"), input: merged) } ?? merged
        default:
            throw InteropError.unsupportedLayer(format: "ONNX", layer: name.isEmpty ? "the model" : name,
                                                reason: "\(module.summary) has no ONNX mapping yet")
        }
    }

    private mutating func activation(_ kind: NTrainNN.Activation.Kind, name: String, input: String) throws -> String {
        switch kind {
        case .relu: return node("Relu", [input], name: name)
        case .leakyRelu(let slope): return node("LeakyRelu", [input], name: name, [.float("alpha", slope)])
        case .sigmoid: return node("Sigmoid", [input], name: name)
        case .tanh: return node("Tanh", [input], name: name)
        case .softmax(let axis): return node("Softmax", [input], name: name, [.int("axis", axis)])
        case .logSoftmax(let axis): return node("LogSoftmax", [input], name: name, [.int("axis", axis)])
        case .gelu:
            // x · ½ · (1 + erf(x / √2)): Gelu itself is an operator only from opset 20.
            let scaled = node("Div", [input, constant(name + ".sqrt2", Tensor(Float(2).squareRoot()))], name: name)
            let erf = node("Erf", [scaled], name: name)
            let onePlus = node("Add", [erf, constant(name + ".one", Tensor(1))], name: name)
            let half = node("Mul", [input, constant(name + ".half", Tensor(0.5))], name: name)
            return node("Mul", [half, onePlus], name: name)
        }
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }
}
