/// Every kind of `data.transforms` entry: its name, the schema of its value (an options object
/// declared as fields, or a bare value such as `{"pad": 2}`), its docs row, and how it maps to a
/// `TransformSpec` case and back. The transforms' schema, decoding, encoding and docs/config.md's
/// table come from this list.
enum TransformKinds {
    struct Kind {
        let name: String
        let schema: Schema
        /// Example entry and notes for the docs table.
        let example: String
        let arguments: String
        let notes: String
        let decode: (Decoder) throws -> TransformSpec
        let encode: (TransformSpec, Encoder) throws -> Void
        /// Valid values of the entry, each different: the required options alone, then each other
        /// option's example added (for the test that every option changes the config).
        let samples: [String]
    }

    nonisolated(unsafe) static let all: [Kind] = [
        object("normalize", NormalizeOptions.self, example: #"{"normalize": {"mean": [0.1307], "std": [0.3081]}}"#,
               "per channel (x − mean) / std; one value applies to all channels; values > 1 are in pixel units (0–255), else 0–1 units",
               { .normalize(mean: $0.mean, std: $0.std) }) {
            guard case let .normalize(mean, std) = $0 else { return nil }
            var o = NormalizeOptions()
            (o.mean, o.std) = (mean, std)
            return o
        },
        value("scale", Double.self, .number(.any), example: #"{"scale": 0.00392}"#, samples: ["0.5", "2"], "multiply every value", { .scale($0) }) {
            if case .scale(let f) = $0 { f } else { nil }
        },
        value("pad", Int.self, .integer(.nonNegative), example: #"{"pad": 2}"#, samples: ["0", "2"], "zero padding on every side", { .pad($0) }) {
            if case .pad(let n) = $0 { n } else { nil }
        },
        object("random_crop", RandomCropOptions.self, example: #"{"random_crop": {"size": 32, "padding": 4}}"#,
               "training only: random crop after zero padding", { .randomCrop(size: $0.size, padding: $0.padding) }) {
            guard case let .randomCrop(size, padding) = $0 else { return nil }
            var o = RandomCropOptions()
            (o.size, o.padding) = (size, padding)
            return o
        },
        object("random_horizontal_flip", FlipOptions.self, example: #"{"random_horizontal_flip": {"p": 0.5}}"#,
               "training only: mirrors the image with probability p", { .randomHorizontalFlip(p: $0.p) }) {
            guard case .randomHorizontalFlip(let p) = $0 else { return nil }
            var o = FlipOptions()
            o.p = p
            return o
        },
        object("to_chw", LayerSpec.NoOptions.self, example: #"{"to_chw": {}}"#, "channels first (HWC → CHW)", { _ in .toCHW }) {
            if case .toCHW = $0 { LayerSpec.NoOptions() } else { nil }
        },
        value("resize", IntPair.self, .pair(NumberRange(min: 1, max: 4096)), example: #"{"resize": [h, w]}` or `{"resize": 32}"#,
              samples: ["32", "[8, 16]"],
              "every image of every split resized as it is read, before the other transforms, with antialiased bilinear interpolation (torchvision's `Resize((h, w))`, the aspect ratio not kept); what lets images of mixed sizes train. The checkpoint records the size, and `ntrain predict` resizes new images to it",
              { .resize($0) }) { if case .resize(let size) = $0 { size } else { nil } },
    ]

    /// docs/config.md's transforms table.
    static var markdownTable: String {
        var lines = ["| Entry | Arguments | Notes |", "|---|---|---|"]
        for kind in all { lines.append("| `\(kind.example)` | \(kind.arguments) | \(kind.notes) |") }
        return lines.joined(separator: "\n")
    }

    private static func object<S: ConfigSection>(_ name: String, _ type: S.Type, example: String, _ notes: String,
                                                 _ make: @escaping (S) -> TransformSpec, options: @escaping (TransformSpec) -> S?) -> Kind {
        let arguments = S.fields.map { f in
            "`\(f.key)`: \(f.schema.docsType), \(f.required || f.defaultNote != nil ? "" : "default ")\(f.defaultColumn(in: S()))"
        }
        let required = S.fields.filter(\.required).map { "\"\($0.key)\": \($0.example)" }
        let samples = [required] + S.fields.filter { !$0.required }.map { required + ["\"\($0.key)\": \($0.example)"] }
        return Kind(name: name, schema: S.schema, example: example, arguments: arguments.isEmpty ? "none" : arguments.joined(separator: "; "),
                    notes: notes, decode: { make(try S(from: $0)) },
                    encode: { spec, encoder in try options(spec)!.encode(to: encoder) },
                    samples: samples.map { "{" + $0.joined(separator: ", ") + "}" })
    }

    private static func value<V: Codable>(_ name: String, _ type: V.Type, _ schema: Schema, example: String, samples: [String], _ notes: String,
                                          _ make: @escaping (V) -> TransformSpec, value: @escaping (TransformSpec) -> V?) -> Kind {
        Kind(name: name, schema: schema, example: example, arguments: schema.docsType, notes: notes,
             decode: { make(try V(from: $0)) }, encode: { spec, encoder in try value(spec)!.encode(to: encoder) }, samples: samples)
    }
}

extension TransformKinds {
    struct NormalizeOptions: ConfigSection {
        var mean: [Double] = []
        var std: [Double] = []
        init() {}
        static var fields: [ConfigField<Self>] {
            [.value("mean", \.mean, .array(.number(.any), minCount: 1), example: "[0.5]", "").isRequired(),
             .value("std", \.std, .array(.number(.positive), minCount: 1), example: "[0.25]", "").isRequired()]
        }
        mutating func finishDecoding(_ c: ConfigDecoding) throws {
            guard mean.count == std.count || mean.count == 1 || std.count == 1 else {
                throw c.error(nil, "mean has \(mean.count) values and std \(std.count); give one per channel (or one for all)")
            }
        }
    }

    struct RandomCropOptions: ConfigSection {
        var size = IntPair(1)
        var padding = 0
        init() {}
        static var fields: [ConfigField<Self>] {
            [.value("size", \.size, .pair(.atLeastOne), example: "3", "").isRequired(),
             .value("padding", \.padding, .integer(.nonNegative), example: "1", "")]
        }
    }

    struct FlipOptions: ConfigSection {
        var p = 0.5
        init() {}
        static var fields: [ConfigField<Self>] { [.value("p", \.p, .number(.unitClosed), example: "0.25", "")] }
    }
}
