import Foundation

/// GPU implementations of tensor ops, called by the `Tensor` ops when their inputs are on a GPU.
/// Each launches the `CUDAKernels` kernel that mirrors the CPU kernel. Failures are recorded on
/// the device (`CUDARuntime.record`; ops cannot throw) and thrown at its sync point; outputs are
/// then of the right shape with undefined contents.
public enum CUDAOps {
    /// A kernel argument: a tensor's device address (0 for a failed allocation; no kernel runs then).
    static func address(_ t: Tensor) -> CUDADevicePointer { t.storage.deviceAddress }

    /// A device address `floats` elements into `t`.
    static func address(_ t: Tensor, offset floats: Int) -> CUDADevicePointer { address(t) + UInt64(floats * 4) }

    /// Launches a grid-stride kernel over `elements` items on `device`.
    static func launch(_ device: Device, _ entry: String, in unit: CUDAKernelSource? = nil, elements: Int, _ args: CUDAKernelArguments) {
        guard elements > 0, let c = CUDARuntime.opContext(device, op: entry) else { return }
        do {
            try c.launch(entry, in: unit, elements: elements, arguments: args)
        } catch { CUDARuntime.record(error, op: entry, device: device) }
    }

    /// Launches a block-per-row kernel over `rows` on `device`.
    static func launch(_ device: Device, _ entry: String, rows: Int, _ args: CUDAKernelArguments) {
        guard rows > 0, let c = CUDARuntime.opContext(device, op: entry) else { return }
        do { try c.launch(entry, rows: rows, arguments: args) } catch { CUDARuntime.record(error, op: entry, device: device) }
    }

    /// Launches with an explicit grid and block.
    static func launch(_ device: Device, _ entry: String, grid: (Int, Int, Int), block: (Int, Int, Int), _ args: CUDAKernelArguments) {
        guard let c = CUDARuntime.opContext(device, op: entry) else { return }
        do { try c.launch(entry, grid: grid, block: block, arguments: args) } catch { CUDARuntime.record(error, op: entry, device: device) }
    }

    /// Records that `op` cannot run on `device` and returns an output of `shape` there.
    static func unsupported(_ op: String, shape: Shape, device: Device) -> Tensor {
        CUDARuntime.record(CUDAUnsupportedOp(op: op, device: device), op: op, device: device)
        return Tensor(uninitialized: shape, device: device)
    }

    /// Traps unless every tensor is on one device (mixing devices is a programming error, as in
    /// PyTorch). `fatalError`, which -Ounchecked keeps, so a host pointer never reaches a kernel.
    static func checkSameDevice(_ op: String, _ tensors: [Tensor]) {
        guard let first = tensors.first else { return }
        for t in tensors.dropFirst() where t.device != first.device {
            fatalError("\(op): tensors on \(first.device) and \(t.device); move them to one device with .to(_:)")
        }
    }

    // MARK: Transfers and fills

    /// A copy of `t` on `device` (host↔device through the driver; GPU to GPU through the host).
    static func transfer(_ t: Tensor, to device: Device) -> Tensor {
        if t.device == device { return t }
        let n = t.count * t.dtype.byteSize
        if t.device == .cpu {
            let out = Tensor(uninitialized: t.shape, dtype: t.dtype, device: device)
            guard let buffer = out.storage.cuda, CUDARuntime.pendingFailure(device) == nil else { return out }
            if n > 0 {
                do { try buffer.copy(fromHost: t.storage.bytes, byteCount: n) } catch { CUDARuntime.record(error, op: "a copy to the device", device: device) }
            }
            return out
        }
        let host = Tensor(uninitialized: t.shape, dtype: t.dtype)
        download(t, into: host.storage.bytes)
        return transfer(host, to: device)
    }

    /// Copies a GPU tensor's bytes to host memory (waiting for its queued kernels). After an error
    /// the host bytes are NaN (float) or 0xFF.
    static func download(_ t: Tensor, into host: UnsafeMutableRawPointer) {
        let n = t.count * t.dtype.byteSize
        guard n > 0 else { return }
        guard let buffer = t.storage.cuda, let c = CUDARuntime.opContext(t.device, op: "a copy to the host") else {
            host.initializeMemory(as: UInt8.self, repeating: 0xFF, count: n)
            return
        }
        do {
            try c.synchronize()
            try buffer.copy(toHost: host, byteCount: n)
        } catch {
            CUDARuntime.record(error, op: "a copy to the host", device: t.device)
            host.initializeMemory(as: UInt8.self, repeating: 0xFF, count: n)
        }
    }

    /// A GPU tensor of `shape` with every 32-bit element set to `pattern`.
    static func filled(_ shape: Shape, pattern: UInt32, dtype: DType = .float32, device: Device) -> Tensor {
        let out = Tensor(uninitialized: shape, dtype: dtype, device: device)
        fill(out, pattern: pattern)
        return out
    }

    /// Sets every element of a GPU tensor to a 32-bit pattern (floats and int32s), or its bytes to
    /// zero for other dtypes.
    static func fill(_ t: Tensor, pattern: UInt32) {
        guard t.count > 0, let c = CUDARuntime.opContext(t.device, op: "a fill"), t.storage.cuda != nil else { return }
        let words = (t.count * t.dtype.byteSize + 3) / 4
        do {
            try c.driver.fill(address(t), pattern: t.dtype.byteSize == 4 ? pattern : 0, count: words)
        } catch { CUDARuntime.record(error, op: "a fill", device: t.device) }
    }

    /// A device-to-device copy of a float32 tensor (`y = x · 1` is exact, −0 and NaN included).
    static func copy(_ t: Tensor) -> Tensor {
        let out = Tensor(uninitialized: t.shape, dtype: t.dtype, device: t.device)
        assign(t, into: out)
        return out
    }

    /// `dst = src` on the device.
    static func assign(_ src: Tensor, into dst: Tensor) {
        guard src.dtype == .float32 else {
            // Integer tensors (labels) move through the host; they are never hot on the GPU.
            let host = Tensor(uninitialized: src.shape, dtype: src.dtype)
            download(src, into: host.storage.bytes)
            guard let buffer = dst.storage.cuda, CUDARuntime.pendingFailure(dst.device) == nil else { return }
            do {
                try buffer.copy(fromHost: host.storage.bytes, byteCount: src.byteCount)
            } catch { CUDARuntime.record(error, op: "a copy to the device", device: dst.device) }
            return
        }
        launch(src.device, "scale_f32", elements: src.count,
               CUDAKernelArguments().pointer(address(src)).pointer(address(dst)).int64(src.count).float(1))
    }
}
