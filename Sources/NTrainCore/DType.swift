/// Element types a tensor can hold. Compute is float32; integer types carry labels and raw pixels.
public enum DType: String, Codable, Sendable, CaseIterable {
    case float32
    case int32
    case int64
    case uint8

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int64: return 8
        case .uint8: return 1
        }
    }

    /// Short name used in `.mge` headers (safetensors style).
    public var shortName: String {
        switch self {
        case .float32: return "F32"
        case .int32: return "I32"
        case .int64: return "I64"
        case .uint8: return "U8"
        }
    }

    public init?(shortName: String) {
        guard let match = DType.allCases.first(where: { $0.shortName == shortName }) else { return nil }
        self = match
    }
}
