/// Host memory: pooled buffers (BufferPool), filled and copied with memset/memcpy.
extension CPUBackend {
    public func allocate(byteCount: Int, device: Device) -> Storage { Storage(byteCount: byteCount) }

    public func fill(_ t: Tensor, pattern: UInt32) {
        if pattern == 0 {
            t.storage.bytes.initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(1, t.count) * t.dtype.byteSize)
        } else {
            precondition(t.dtype.byteSize == 4, "fill: a non-zero pattern needs 4-byte elements, got \(t.dtype)")
            t.storage.bytes.assumingMemoryBound(to: UInt32.self).initialize(repeating: pattern, count: t.count)
        }
    }

    public func copy(_ t: Tensor) -> Tensor {
        let out = Tensor(uninitialized: t.shape, dtype: t.dtype)
        // Split across the kernels' threads when large (the gradient a parameter takes over each
        // step: conv_bn's fc1 is 1 MB); 256 KB at least per thread.
        let src = UnsafeRawPointer(t.storage.bytes), dst = out.storage.bytes
        Parallel.forEachChunk(t.byteCount, minChunk: 1 << 18) { _, r in
            (dst + r.lowerBound).copyMemory(from: src + r.lowerBound, byteCount: r.count)
        }
        return out
    }

    public func assign(_ src: Tensor, into dst: Tensor) {
        guard src.storage !== dst.storage else { return }
        // From a device: its backend copies down into our bytes.
        if src.device != dst.device { return src.backend.assign(src, into: dst) }
        dst.storage.bytes.copyMemory(from: src.storage.bytes, byteCount: dst.byteCount)
    }
}
