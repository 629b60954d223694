/// The options of each layer kind of `model.layers`, declared as fields (`ConfigSection`): the
/// layer's schema, decoding, encoding and docs/config.md's layer table come from them
/// (`LayerKinds`).
extension LayerSpec {
    public struct LinearOptions: ConfigSection {
        public var out = 1
        public var bias = true

        public init() {}

        static var fields: [ConfigField<Self>] {
            [.value("out", \.out, .integer(.width), example: "3", "output features").isRequired(),
             .value("bias", \.bias, .bool, example: "false", "")]
        }
    }

    /// `dropout`'s `p`, `leaky_relu`'s `slope`, the softmaxes' `axis`, `scale`'s `factor`.
    public struct DropoutOptions: ConfigSection {
        public var p = 0.5
        public init() {}
        static var fields: [ConfigField<Self>] { [.value("p", \.p, .number(.unitOpen), example: "0.2", "the probability of zeroing an element")] }
    }

    public struct SlopeOptions: ConfigSection {
        public var slope = 0.01
        public init() {}
        static var fields: [ConfigField<Self>] { [.value("slope", \.slope, .number(.any), example: "0.2", "for x < 0")] }
    }

    public struct AxisOptions: ConfigSection {
        public var axis = -1
        public init() {}
        static var fields: [ConfigField<Self>] { [.value("axis", \.axis, .integer(.any), example: "1", "")] }
    }

    public struct ScaleOptions: ConfigSection {
        public var factor = 1.0
        public init() {}
        static var fields: [ConfigField<Self>] {
            [.value("factor", \.factor, .number(.any), example: "0.5",
                    "multiplies by a constant (a fixed temperature on the logits, airbench's `Mul`)").isRequired()]
        }
    }

    public struct RepeatOptions: ConfigSection {
        public var times = 1
        public var layers: [LayerSpec] = []
        public init() {}
        static var fields: [ConfigField<Self>] {
            [.value("times", \.times, .integer(.repeats), example: "2", "").isRequired(),
             .value("layers", \.layers, .array(.deferred { LayerSpec.schema }, minCount: 1), example: #"[{"relu": {}}, {"identity": {}}]"#,
                    "the list `times` times in a row, each repetition with its own weights").isRequired()]
        }
    }

    /// The layers without options (`relu`, `flatten`, …): `{}`.
    public struct NoOptions: ConfigSection {
        public init() {}
        static var fields: [ConfigField<Self>] { [] }
    }
}

extension LayerSpec.Conv2dOptions: ConfigSection {
    public init() { self.init(out: 1, kernel: IntPair(1)) }

    static var fields: [ConfigField<Self>] {
        [
            .value("out", \.out, .integer(.channels), example: "6", "output channels").isRequired(),
            .value("kernel", \.kernel, .pair(.atLeastOne), example: "3", "").isRequired(),
            .value("stride", \.stride, .pair(.atLeastOne), example: "2", ""),
            .value("padding", \.padding, .pair(.nonNegative), example: "1", ""),
            .value("dilation", \.dilation, .pair(.atLeastOne), example: "2", ""),
            .value("groups", \.groups, .integer(.atLeastOne), example: "2", "must divide `out` and the input channels"),
            .value("bias", \.bias, .bool, example: "false", ""),
            .optional("init", \.initialization, .choice(ConvInit.self), example: #""dirac""#, writesNull: false, acceptsNull: true,
                      "null: the model's `init`; `dirac`: the first min(out, in) filters pass their input channel through, the others keep the model's init, as `nn.init.dirac_`; `patch_whitening`: see below"),
        ]
    }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        guard out % groups == 0 else { throw c.error("groups", "out (\(out)) must be divisible by groups (\(groups))") }
    }
}

extension LayerSpec.PoolOptions: ConfigSection {
    public init() { self.init(kernel: IntPair(1)) }

    static var fields: [ConfigField<Self>] {
        [
            .value("kernel", \.kernel, .pair(.atLeastOne), example: "3", "").isRequired(),
            .value("stride", \.stride, .nullable(.pair(.atLeastOne)), example: "1", default: "`null` (the kernel)", ""),
            .value("padding", \.padding, .pair(.nonNegative), example: "1", "at most half the kernel; avg counts padding like PyTorch"),
        ]
    }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        if (try c.optional("stride") as IntPair?) == nil { stride = kernel }
        guard padding.first * 2 <= kernel.first, padding.second * 2 <= kernel.second else {
            throw c.error("padding", "must be at most half the kernel size, as in PyTorch")
        }
    }
}

extension LayerSpec.BatchNormOptions: ConfigSection {

    static var fields: [ConfigField<Self>] {
        [
            .value("momentum", \.momentum, .number(.unitClosed), example: "0.2", ""),
            .value("eps", \.eps, .number(.positive), example: "0.001", ""),
            .value("affine", \.affine, .bool, example: "false", "`false`: no weight and bias, as PyTorch's `affine=False`"),
        ]
    }
}

extension LayerSpec.ResidualOptions: ConfigSection {
    public init() { self.init(body: []) }

    static var fields: [ConfigField<Self>] {
        [
            .value("body", \.body, .array(.deferred { LayerSpec.schema }, minCount: 1), example: #"[{"relu": {}}, {"identity": {}}]"#,
                   "a layer list").isRequired(),
            .value("shortcut", \.shortcut, .array(.deferred { LayerSpec.schema }), example: #"[{"identity": {}}]"#,
                   "a layer list; `[]` is the identity"),
            .optional("activation", \.activation, .choice(Activation.self), example: #""relu""#, "`activation(body(x) + shortcut(x))`"),
        ]
    }
}

extension LayerSpec.BranchesOptions: ConfigSection {
    public init() { self.init(merge: .add, paths: []) }

    static var fields: [ConfigField<Self>] {
        [
            .value("merge", \.merge, .choice(BranchMerge.self), example: #""concat""#, "`add`, or `concat` along the channels").isRequired(),
            .value("paths", \.paths, .array(.array(.deferred { LayerSpec.schema }), minCount: 1), example: #"[[], [{"relu": {}}]]"#,
                   "a list of layer lists; `[]` is the identity").isRequired(),
            .optional("activation", \.activation, .choice(Activation.self), example: #""relu""#, "after the merge"),
        ]
    }
}
