import CFloatMath

/// Flush-to-zero for subnormal floats, per thread (`torch.set_flush_denormal` in PyTorch).
///
/// Subnormals (0 < |x| < 2⁻¹²⁶ ≈ 1.2e-38) appear late in training, in tiny gradients and their
/// squares in Adam's second moments. On x86-64 each operation that produces or reads one takes a
/// microcode assist of about a hundred cycles, so a converging run slows down: LeNet5-GELU's
/// epochs went from 17,900 to 8,500 images/s over 10 epochs. Flushed, they are ±0 (a change of at
/// most 2⁻¹²⁶ per value), and the run keeps its speed.
///
/// The mode belongs to a thread. `Parallel.forEachChunk` and `forEachTask` run every chunk in the
/// mode of the thread that called them, so results never depend on which thread ran a chunk.
public enum Denormals {
    /// Whether the calling thread flushes subnormal results and inputs to zero.
    public static var flushedToZero: Bool { ntrain_flushes_denormals() != 0 }

    /// Sets the calling thread's mode.
    public static func setFlushedToZero(_ flush: Bool) {
        if flush != flushedToZero { ntrain_set_flush_denormals(flush ? 1 : 0) }
    }

    /// Runs `body` with the calling thread's mode set to `flush`, then restores the mode it had.
    public static func withFlushedToZero<T>(_ flush: Bool = true, _ body: () throws -> T) rethrows -> T {
        let before = flushedToZero
        setFlushedToZero(flush)
        defer { setFlushedToZero(before) }
        return try body()
    }
}
