/// One entry of `data.transforms`, written as a single-key object: `{"pad": 2}`,
/// `{"normalize": {"mean": [0.1307], "std": [0.3081]}}`, `{"random_crop": {"size": 32, "padding": 4}}`.
public enum TransformSpec: Codable, Equatable, Sendable {
    /// Per-channel (x - mean) / std; one value applies to every channel. Values above 1 are in
    /// pixel units (0...255), otherwise in 0...1 units.
    case normalize(mean: [Double], std: [Double])
    /// Multiplies every value by a factor (e.g. 1/255).
    case scale(Double)
    /// Zero padding on every side of the image.
    case pad(Int)
    /// Training only: a random `size` crop after zero padding by `padding`.
    case randomCrop(size: IntPair, padding: Int)
    /// Training only: mirrors the image with probability `p`.
    case randomHorizontalFlip(p: Double)
    /// Moves channels first (HWC → CHW).
    case toCHW
    /// Resizes every image to (height, width) as it is read, before the other transforms
    /// (torchvision's `Resize((h, w))`, antialiased bilinear): images of mixed sizes become one size.
    case resize(IntPair)

    /// The size a `resize` gives the images as they are read, if the list has one.
    public static func readSize(_ transforms: [TransformSpec]) -> (height: Int, width: Int)? {
        for case .resize(let size) in transforms { return (size.first, size.second) }
        return nil
    }

    /// Whether the transform is skipped at evaluation.
    public var isTrainingOnly: Bool {
        switch self {
        case .randomCrop, .randomHorizontalFlip: return true
        default: return false
        }
    }

    static var schema: Schema {
        .tagged([
            "normalize": .object(
                ["mean": .array(.number(.any), minCount: 1), "std": .array(.number(.positive), minCount: 1)],
                required: ["mean", "std"]),
            "scale": .number(.any),
            "pad": .integer(.nonNegative),
            "random_crop": .object(["size": .pair(.atLeastOne), "padding": .integer(.nonNegative)], required: ["size"]),
            "random_horizontal_flip": .object(["p": .number(.unitClosed)]),
            "to_chw": .object([:]),
            "resize": .pair(NumberRange(min: 1, max: 4096)),
        ])
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw c.error(nil, "expected an object with exactly one key naming the transform")
        }
        switch key.stringValue {
        case "normalize":
            let args = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: key)
            let mean: [Double] = try args.value("mean", default: [])
            let std: [Double] = try args.value("std", default: [])
            guard mean.count == std.count || mean.count == 1 || std.count == 1 else {
                throw args.error(nil, "mean has \(mean.count) values and std \(std.count); give one per channel (or one for all)")
            }
            self = .normalize(mean: mean, std: std)
        case "scale": self = .scale(try c.decode(Double.self, forKey: key))
        case "pad": self = .pad(try c.decode(Int.self, forKey: key))
        case "random_crop":
            let args = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: key)
            guard let size: IntPair = try args.optional("size") else { throw args.error("size", "missing (required)") }
            self = .randomCrop(size: size, padding: try args.value("padding", default: 0))
        case "random_horizontal_flip":
            let args = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: key)
            self = .randomHorizontalFlip(p: try args.value("p", default: 0.5))
        case "to_chw": self = .toCHW
        case "resize": self = .resize(try c.decode(IntPair.self, forKey: key))
        default:
            throw c.error(key.stringValue, "unknown transform; allowed: normalize, scale, pad, random_crop, random_horizontal_flip, to_chw, resize")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        switch self {
        case .normalize(let mean, let std):
            try c.put("normalize", ["mean": mean, "std": std])
        case .scale(let factor): try c.put("scale", factor)
        case .pad(let n): try c.put("pad", n)
        case .randomCrop(let size, let padding):
            var args = c.nestedContainer(keyedBy: ConfigKey.self, forKey: ConfigKey("random_crop"))
            try args.put("size", size)
            try args.put("padding", padding)
        case .randomHorizontalFlip(let p): try c.put("random_horizontal_flip", ["p": p])
        case .toCHW: try c.put("to_chw", [String: Int]())
        case .resize(let size): try c.put("resize", size)
        }
    }
}
