/// The elementwise binary operations a backend runs, with NumPy broadcasting.
public enum BinaryOp: String, Sendable, CaseIterable {
    case add, sub, mul, div
    /// −a / b (a divisor's gradient, with a = g·x and b = y·y computed first, as on every backend).
    case negDiv = "neg_div"

    /// The op's name in the CUDA kernels (`<name>_f32`, `<name>_broadcast_f32`).
    public var name: String { rawValue }
}
