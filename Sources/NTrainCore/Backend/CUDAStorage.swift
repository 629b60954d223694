/// Device memory: the caching allocator (CUDARuntime), fills and copies on the device.
extension CUDABackend {
    public func allocate(byteCount: Int, device: Device) -> Storage { CUDARuntime.storage(byteCount: byteCount, device: device) }

    public func fill(_ t: Tensor, pattern: UInt32) { CUDAOps.fill(t, pattern: pattern) }

    public func copy(_ t: Tensor) -> Tensor { CUDAOps.copy(t) }

    /// Into device memory from anywhere, or (called by the CPU backend) down into host memory.
    public func assign(_ src: Tensor, into dst: Tensor) {
        guard src.storage !== dst.storage else { return }
        if dst.backend is CPUBackend { return CUDAOps.download(src, into: dst.storage.bytes) }
        CUDAOps.assign(src.to(dst.device), into: dst)
    }
}
