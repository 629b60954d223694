/// One entry of `optimizer.groups`: the parameters it selects get their own learning-rate factor
/// and weight decay (PyTorch's parameter groups). A parameter belongs to the first group that
/// selects it; the rest stay with the optimizer's own settings.
public struct ParameterGroupConfig: Codable, Equatable, Sendable {
    /// Layer kinds whose parameters are selected (`batch_norm`, `conv2d`, `linear`); nil: any.
    public var layers: [ParameterLayerKind]? = nil
    /// Glob patterns (`*` any run of characters, `?` one) on dotted parameter names such as
    /// `layer1.0.body.bn1.bias` or `4.bias`; nil: any name. With both, a parameter must match both.
    public var match: [String]? = nil
    /// The group's learning rate as a multiple of the scheduled one; 0 freezes the group.
    public var lrScale = 1.0
    /// nil: the optimizer's `weight_decay`.
    public var weightDecay: Double? = nil

    public init(layers: [ParameterLayerKind]? = nil, match: [String]? = nil, lrScale: Double = 1, weightDecay: Double? = nil) {
        self.layers = layers
        self.match = match
        self.lrScale = lrScale
        self.weightDecay = weightDecay
    }

    static var schema: Schema {
        .object([
            "layers": .nullable(.array(.choice(ParameterLayerKind.self), minCount: 1)), "match": .nullable(.array(.string, minCount: 1)),
            "lr_scale": .number(.nonNegative), "weight_decay": .nullable(.number(.nonNegative)),
        ])
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        layers = try c.optional("layers")
        match = try c.optional("match")
        lrScale = try c.value("lr_scale", default: lrScale)
        weightDecay = try c.optional("weight_decay")
        guard layers != nil || match != nil else {
            throw c.error(nil, "a parameter group needs \"layers\" (e.g. [\"batch_norm\"]) or \"match\" (e.g. [\"*.bias\"]) to select its parameters")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        try c.putOptional("layers", layers)
        try c.putOptional("match", match)
        try c.put("lr_scale", lrScale)
        try c.putOptional("weight_decay", weightDecay)
    }

    /// Whether this group selects the parameter `name` owned by a layer of kind `kind`.
    public func selects(name: String, kind: ParameterLayerKind?) -> Bool {
        if let layers, !(kind.map(layers.contains) ?? false) { return false }
        if let match, !match.contains(where: { Self.glob($0, matches: name) }) { return false }
        return true
    }

    /// `*` matches any run of characters (dots included), `?` any one character.
    static func glob(_ pattern: String, matches name: String) -> Bool {
        let p = Array(pattern), s = Array(name)
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == s[si]) {
                pi += 1; si += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// The layer kinds a parameter group can select by.
public enum ParameterLayerKind: String, Codable, CaseIterable, Sendable {
    case batchNorm = "batch_norm", conv2d, linear
}
