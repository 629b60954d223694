/// The parameter block of one kernel launch (`cuLaunchKernel`'s `void** kernelParams`): each value
/// lives in its own 8-byte-aligned slot, and the driver copies `sizeof(param)` bytes from each.
/// Values must be added in the kernel's parameter order with the kernel's C types.
public final class CUDAKernelArguments {
    private var slots: [UnsafeMutableRawPointer] = []

    public init() {}

    deinit { for s in slots { s.deallocate() } }

    /// How many parameters have been added.
    public var count: Int { slots.count }

    private func append<T>(_ value: T) {
        let slot = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(8, MemoryLayout<T>.stride), alignment: 8)
        slot.storeBytes(of: value, as: T.self)
        slots.append(slot)
    }

    /// A `float*`/`int*` parameter: the buffer's device address, or null.
    @discardableResult public func buffer(_ b: CUDABuffer?) -> Self { append(b?.address ?? 0); return self }
    /// A device address (e.g. an offset into a buffer), as `float*`.
    @discardableResult public func pointer(_ p: CUDADevicePointer) -> Self { append(p); return self }
    /// An `i64` (`long long`) parameter.
    @discardableResult public func int64(_ v: Int) -> Self { append(Int64(v)); return self }
    /// An `int` parameter (flags, int32 values).
    @discardableResult public func int32(_ v: Int) -> Self { append(Int32(v)); return self }
    /// A `float` parameter.
    @discardableResult public func float(_ v: Float) -> Self { append(v); return self }

    /// A struct of int64 fields passed by value (`NTStridedIndex`, `NTConvGeometry`, `NTPoolGeometry`).
    @discardableResult public func int64Struct(_ fields: [Int64]) -> Self {
        let slot = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(8, fields.count * 8), alignment: 8)
        fields.withUnsafeBytes { slot.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        slots.append(slot)
        return self
    }

    /// Runs `body` with the `void**` array the driver expects.
    public func withParameterArray<R>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws -> R) rethrows -> R {
        var pointers: [UnsafeMutableRawPointer?] = slots
        pointers.append(nil)  // never read by the driver; keeps the array non-empty
        return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}

extension CUDAKernelArguments {
    /// The fields of an `NTStridedIndex`: rank, then shape, `a` strides and `b` strides, each padded
    /// to 8 entries (25 int64s).
    public static func stridedIndex(shape: [Int], a: [Int], b: [Int]) -> [Int64] {
        precondition(shape.count <= 8 && a.count == shape.count && b.count == shape.count,
                     "NTStridedIndex: rank \(shape.count) with strides \(a), \(b) (rank at most 8)")
        func padded(_ v: [Int]) -> [Int64] { v.map(Int64.init) + Array(repeating: 0, count: 8 - v.count) }
        return [Int64(shape.count)] + padded(shape) + padded(a) + padded(b)
    }

    /// The fields of an `NTConvGeometry` for `channels` input channels per group of `g`, over
    /// images `imageStride` floats apart, with im2col rows `rowStride` floats apart.
    public static func convGeometry(_ g: Conv2dGeometry, channels: Int, imageStride: Int, rowStride: Int) -> [Int64] {
        [g.batch, channels, g.height, g.width, g.kernelHeight, g.kernelWidth, g.strideY, g.strideX,
         g.padY, g.padX, g.dilationY, g.dilationX, g.outHeight, g.outWidth, imageStride, rowStride].map(Int64.init)
    }

    /// The fields of an `NTPoolGeometry`.
    public static func poolGeometry(_ g: Pool2dGeometry) -> [Int64] {
        [g.batch * g.channels, g.height, g.width, g.outHeight, g.outWidth,
         g.kernelHeight, g.kernelWidth, g.strideY, g.strideX, g.padY, g.padX].map(Int64.init)
    }
}
