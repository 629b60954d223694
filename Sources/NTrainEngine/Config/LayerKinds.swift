/// Every layer kind of `model.layers`: its name, its options section (`LayerOptions.swift`) and how
/// the options map to a `LayerSpec` case and back. The layer list's schema, decoding, encoding and
/// its docs/config.md table come from this list.
enum LayerKinds {
    struct Kind {
        let name: String
        let schema: Schema
        let table: [String]
        /// Each optional option's example, and the required options with theirs.
        let examples: [(key: String, json: String)]
        let required: [String: String]
        let decode: (Decoder) throws -> LayerSpec
        let encode: (LayerSpec, Encoder) throws -> Void
        let notes: String
    }

    /// Built once: decoding looks each layer's kind up here.
    nonisolated(unsafe) static let all: [Kind] = {
        [
            kind("linear", LayerSpec.LinearOptions.self, { .linear(out: $0.out, bias: $0.bias) }) {
                guard case let .linear(out, bias) = $0 else { return nil }
                var o = LayerSpec.LinearOptions()
                (o.out, o.bias) = (out, bias)
                return o
            },
            kind("conv2d", LayerSpec.Conv2dOptions.self, { .conv2d($0) }) { if case .conv2d(let o) = $0 { o } else { nil } },
            kind("max_pool2d", LayerSpec.PoolOptions.self, { .maxPool2d($0) }) { if case .maxPool2d(let o) = $0 { o } else { nil } },
            kind("avg_pool2d", LayerSpec.PoolOptions.self, { .avgPool2d($0) }) { if case .avgPool2d(let o) = $0 { o } else { nil } },
            kind("batch_norm1d", LayerSpec.BatchNormOptions.self, { .batchNorm1d($0) }) { if case .batchNorm1d(let o) = $0 { o } else { nil } },
            kind("batch_norm2d", LayerSpec.BatchNormOptions.self, { .batchNorm2d($0) }) { if case .batchNorm2d(let o) = $0 { o } else { nil } },
            kind("dropout", LayerSpec.DropoutOptions.self, { .dropout(p: $0.p) }) {
                guard case .dropout(let p) = $0 else { return nil }
                var o = LayerSpec.DropoutOptions()
                o.p = p
                return o
            },
            plain("flatten", .flatten, "keeps the batch dimension"),
            plain("relu", .relu), plain("gelu", .gelu), plain("sigmoid", .sigmoid), plain("tanh", .tanh),
            kind("leaky_relu", LayerSpec.SlopeOptions.self, { .leakyRelu(slope: $0.slope) }) {
                guard case .leakyRelu(let slope) = $0 else { return nil }
                var o = LayerSpec.SlopeOptions()
                o.slope = slope
                return o
            },
            kind("softmax", LayerSpec.AxisOptions.self, { .softmax(axis: $0.axis) }) { axis(of: $0, softmax: true) },
            kind("log_softmax", LayerSpec.AxisOptions.self, { .logSoftmax(axis: $0.axis) }) { axis(of: $0, softmax: false) },
            plain("identity", .identity),
            plain("global_avg_pool2d", .globalAvgPool2d,
                  "the mean of each channel, `[N, C, H, W]` → `[N, C, 1, 1]` (PyTorch's `AdaptiveAvgPool2d(1)`)"),
            kind("scale", LayerSpec.ScaleOptions.self, { .scale(factor: $0.factor) }) {
                guard case .scale(let factor) = $0 else { return nil }
                var o = LayerSpec.ScaleOptions()
                o.factor = factor
                return o
            },
            kind("residual", LayerSpec.ResidualOptions.self, { .residual($0) }) { if case .residual(let o) = $0 { o } else { nil } },
            kind("branches", LayerSpec.BranchesOptions.self, { .branches($0) }) { if case .branches(let o) = $0 { o } else { nil } },
            kind("repeat", LayerSpec.RepeatOptions.self, { .repeated(times: $0.times, layers: $0.layers) }) {
                guard case let .repeated(times, layers) = $0 else { return nil }
                var o = LayerSpec.RepeatOptions()
                (o.times, o.layers) = (times, layers)
                return o
            },
        ]
    }()

    /// docs/config.md's layer table: one row per option of each kind.
    static var markdownTable: String {
        var lines = ["| Layer | Key | Type | Default | Notes |", "|---|---|---|---|---|"]
        for kind in all {
            if kind.table.isEmpty { lines.append("| `\(kind.name)` | — | | | \(kind.notes) |") }
            for (i, row) in kind.table.enumerated() { lines.append("| \(i == 0 ? "`\(kind.name)`" : "") | \(row) |") }
        }
        return lines.joined(separator: "\n")
    }

    private static func kind<S: ConfigSection>(_ name: String, _ type: S.Type, _ make: @escaping (S) -> LayerSpec,
                                               notes: String = "", options: @escaping (LayerSpec) -> S?) -> Kind {
        let required = Dictionary(uniqueKeysWithValues: S.fields.filter(\.required).map { ($0.key, $0.example) })
        let rows = S.fields.map { f in "`\(f.key)` | \(f.schema.docsType) | \(f.defaultColumn(in: S())) | \(f.notes)" }
        return Kind(
            name: name, schema: S.schema, table: rows, examples: S.fields.filter { !$0.required }.map { ($0.key, $0.example) }, required: required,
            decode: { make(try S(from: $0)) },
            encode: { spec, encoder in
                guard let o = options(spec) else { preconditionFailure("\(spec.kind) is not a \(name)") }
                try o.encode(to: encoder)
            },
            notes: notes)
    }

    private static func plain(_ name: String, _ spec: LayerSpec, _ notes: String = "") -> Kind {
        Kind(name: name, schema: LayerSpec.NoOptions.schema, table: [], examples: [], required: [:], decode: { _ = try LayerSpec.NoOptions(from: $0); return spec },
             encode: { _, encoder in try LayerSpec.NoOptions().encode(to: encoder) }, notes: notes.isEmpty ? "no options" : notes)
    }

    private static func axis(of spec: LayerSpec, softmax: Bool) -> LayerSpec.AxisOptions? {
        var o = LayerSpec.AxisOptions()
        switch spec {
        case .softmax(let axis) where softmax: o.axis = axis
        case .logSoftmax(let axis) where !softmax: o.axis = axis
        default: return nil
        }
        return o
    }
}
