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

    static var schema: Schema { .tagged(Dictionary(uniqueKeysWithValues: TransformKinds.all.map { ($0.name, $0.schema) })) }

    /// The entry's name in configs (`normalize`, `random_crop`, ...).
    public var kind: String {
        switch self {
        case .normalize: return "normalize"
        case .scale: return "scale"
        case .pad: return "pad"
        case .randomCrop: return "random_crop"
        case .randomHorizontalFlip: return "random_horizontal_flip"
        case .toCHW: return "to_chw"
        case .resize: return "resize"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: ConfigKey.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw c.error(nil, "expected an object with exactly one key naming the transform")
        }
        guard let kind = TransformKinds.all.first(where: { $0.name == key.stringValue }) else {
            throw c.error(key.stringValue, "unknown transform; allowed: \(TransformKinds.all.map(\.name).joined(separator: ", "))")
        }
        self = try kind.decode(try c.superDecoder(forKey: key))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ConfigKey.self)
        guard let kind = TransformKinds.all.first(where: { $0.name == self.kind }) else { preconditionFailure("no transform kind \(self.kind)") }
        try kind.encode(self, c.superEncoder(forKey: ConfigKey(self.kind)))
    }
}
