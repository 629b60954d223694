/// An n-dimensional, row-major, contiguous array on a device, with an optional autograd history.
///
/// Tensors are reference types, as in PyTorch: `reshape` returns a view that shares storage, and
/// in-place updates (optimizer steps) are seen through every view. Ops always produce contiguous
/// results, so strides are always the row-major ones derived from `shape`.
public final class Tensor: CustomStringConvertible {
    public let shape: Shape
    public let dtype: DType
    /// Changes only through `moveStorage(to:)` (`Module.to(_:)`).
    public private(set) var storage: Storage
    /// Where the elements live: the storage's device.
    public var device: Device { storage.device }
    /// Leaf tensors with `requiresGrad` receive `.grad` from `backward()`.
    public var requiresGrad: Bool
    /// Accumulated gradient (same shape, float32).
    public var grad: Tensor?
    /// The op that produced this tensor, while its graph is alive.
    public internal(set) var gradNode: GradNode?

    /// Uninitialised tensor (contents are whatever the pool buffer held).
    /// On a GPU the memory comes from the device's caching allocator (see `CUDARuntime`).
    public init(uninitialized shape: Shape, dtype: DType = .float32, device: Device = .cpu) {
        self.shape = shape
        self.dtype = dtype
        let bytes = Swift.max(1, shape.count) * dtype.byteSize
        self.storage = device.backend.allocate(byteCount: bytes, device: device)
        self.requiresGrad = false
    }

    /// A view of `storage` with another shape (same element count), on the storage's device.
    public init(sharing storage: Storage, shape: Shape, dtype: DType) {
        precondition(shape.count * dtype.byteSize <= storage.byteCount, "view larger than its storage")
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
        self.requiresGrad = false
    }

    /// A float32 tensor holding `scalars` in row-major order.
    public convenience init(shape: Shape, scalars: [Float], requiresGrad: Bool = false) {
        precondition(shape.count == scalars.count, "shape \(shape) needs \(shape.count) values, got \(scalars.count)")
        self.init(uninitialized: shape)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { data.update(from: base, count: scalars.count) }
        }
        self.requiresGrad = requiresGrad
    }

    /// An int32 tensor (class indices) holding `values`.
    public convenience init(shape: Shape, int32s values: [Int32]) {
        precondition(shape.count == values.count, "shape \(shape) needs \(shape.count) values, got \(values.count)")
        self.init(uninitialized: shape, dtype: .int32)
        let p = storage.bytes.assumingMemoryBound(to: Int32.self)
        for i in 0..<values.count { p[i] = values[i] }
    }

    /// A scalar (rank-0) float32 tensor.
    public convenience init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    public static func zeros(_ shape: Shape, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        let t = Tensor(uninitialized: shape, dtype: dtype, device: device)
        t.backend.fill(t, pattern: 0)
        return t
    }

    public static func full(_ shape: Shape, _ value: Float, device: Device = .cpu) -> Tensor {
        let t = Tensor(uninitialized: shape, device: device)
        t.backend.fill(t, pattern: value.bitPattern)
        return t
    }

    /// Moves this tensor's elements to `device` in place, keeping its identity (PyTorch's
    /// `module.to(device)` replaces `param.data`), so optimizers holding it see the move. Drops the
    /// gradient and history. Views made earlier keep the old storage.
    public func moveStorage(to device: Device) {
        guard device != self.device else { return }
        storage = Tensor.backend(between: self.device, device).transfer(detached(), to: device).storage
        grad = nil
        gradNode = nil
    }

    /// This tensor on `device` (itself when it is already there), as PyTorch's `.to(device)`.
    /// Gradients flow back to the original device.
    public func to(_ device: Device) -> Tensor {
        if device == self.device { return self }
        let source = self.device
        let backend = Tensor.backend(between: source, device)
        let moved = backend.transfer(self, to: device)
        guard dtype == .float32 else { return moved }
        return moved.recorded("to", inputs: [self]) { g in [backend.transfer(g, to: source)] }
    }

    public static func ones(_ shape: Shape) -> Tensor { full(shape, 1) }

    // MARK: Element access

    public var count: Int { shape.count }
    public var rank: Int { shape.rank }

    /// Float32 elements; traps for other dtypes.
    public var data: UnsafeMutablePointer<Float> {
        precondition(dtype == .float32, "expected a float32 tensor, got \(dtype)")
        if device != .cpu { Tensor.refuseHostAccess(device) }
        return storage.bytes.assumingMemoryBound(to: Float.self)
    }

    /// Int32 elements (class indices); traps for other dtypes.
    public var int32Data: UnsafeMutablePointer<Int32> {
        precondition(dtype == .int32, "expected an int32 tensor, got \(dtype)")
        if device != .cpu { Tensor.refuseHostAccess(device) }
        return storage.bytes.assumingMemoryBound(to: Int32.self)
    }

    /// UInt8 elements (raw pixels); traps for other dtypes.
    public var uint8Data: UnsafeMutablePointer<UInt8> {
        precondition(dtype == .uint8, "expected a uint8 tensor, got \(dtype)")
        if device != .cpu { Tensor.refuseHostAccess(device) }
        return storage.bytes.assumingMemoryBound(to: UInt8.self)
    }

    /// Int64 elements; traps for other dtypes.
    public var int64Data: UnsafeMutablePointer<Int64> {
        precondition(dtype == .int64, "expected an int64 tensor, got \(dtype)")
        if device != .cpu { Tensor.refuseHostAccess(device) }
        return storage.bytes.assumingMemoryBound(to: Int64.self)
    }

    /// Traps on host access to a GPU tensor's elements. A `fatalError`, not a `precondition`: the
    /// engine targets build with -Ounchecked, which removes preconditions, and reading a GPU
    /// tensor's placeholder host bytes would be silent garbage.
    @inline(never)
    static func refuseHostAccess(_ device: Device) -> Never {
        fatalError("host access to a \(device) tensor's elements: copy it with .to(.cpu) first")
    }

    /// Contents converted to Float, in row-major order (any dtype).
    public var scalars: [Float] {
        if device != .cpu { return to(.cpu).scalars }  // read back through a host copy
        let n = count
        switch dtype {
        case .float32: return Array(UnsafeBufferPointer(start: data, count: n))
        case .int32: return (0..<n).map { Float(int32Data[$0]) }
        case .int64: return (0..<n).map { Float(int64Data[$0]) }
        case .uint8: return (0..<n).map { Float(uint8Data[$0]) }
        }
    }

    /// The single value of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "item() needs a one-element tensor, shape is \(shape)")
        return scalars[0]
    }

    /// Raw bytes (little-endian on every supported platform), for checkpoints.
    public var byteCount: Int { count * dtype.byteSize }

    // MARK: Copies

    /// A new tensor with the same contents and no autograd history.
    public func copy() -> Tensor { backend.copy(self) }

    /// The same storage without autograd history (PyTorch's `detach`).
    public func detached() -> Tensor { Tensor(sharing: storage, shape: shape, dtype: dtype) }

    /// Overwrites this tensor's contents with `other`'s (same shape and dtype).
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape && other.dtype == dtype, "assign: \(other.shape) \(other.dtype) into \(shape) \(dtype)")
        backend.assign(other, into: self)
    }

    /// Sets every element to zero.
    public func zero() { backend.fill(self, pattern: 0) }

    public var description: String {
        let values = scalars
        let shown = values.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(\(shape), \(dtype)\(requiresGrad ? ", requiresGrad" : ""): [\(shown)\(values.count > 8 ? ", …" : "")])"
    }
}
