/// One entry of `optimizer.groups`: the parameters it selects get their own learning-rate factor
/// and weight decay (PyTorch's parameter groups). A parameter belongs to the first group that
/// selects it; the rest stay with the optimizer's own settings.
public struct ParameterGroupConfig: ConfigSection {
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

    public init() {}


    static var fields: [ConfigField<Self>] {
        [
            .optional("layers", \.layers, .array(.choice(ParameterLayerKind.self), minCount: 1), example: #"["linear"]"#, default: "any",
                      "the parameters of layers of these kinds"),
            .optional("match", \.match, .array(.string, minCount: 1), example: #"["*.bias"]"#, default: "any",
                      "glob patterns on the dotted parameter names (`*` any characters, dots included; `?` one), e.g. `*.bias`, `layer1.*`"),
            .value("lr_scale", \.lrScale, .number(.nonNegative), example: "64",
                   "the group's learning rate is this times the scheduled one (schedulers scale every group alike); `0` freezes the group"),
            .optional("weight_decay", \.weightDecay, .number(.nonNegative), example: "0", default: "the optimizer's", ""),
        ]
    }

    mutating func finishDecoding(_ c: ConfigDecoding) throws {
        guard layers != nil || match != nil else {
            throw c.error(nil, "a parameter group needs \"layers\" (e.g. [\"batch_norm\"]) or \"match\" (e.g. [\"*.bias\"]) to select its parameters")
        }
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
