import Foundation
import XCTest
@testable import NTrainCore

/// The GPU op check: runs each CUDA kernel on a real GPU and compares it with the CPU kernel it
/// mirrors (forward and backward). Skips where no CUDA device can be opened; scripts/gpu_check.sh
/// runs it on a GPU machine. `CUDAEmulatedOpCheckTests` runs the same checks on the CUDA host
/// emulator, which checks the kernels' logic and launches everywhere (not the hardware).
class CUDAOpCheckTests: XCTestCase {
    /// Opens the device the checks run on (overridden by the emulated variant).
    class func makeContext() throws -> CUDAContext {
        let index = Int(ProcessInfo.processInfo.environment["NTRAIN_GPU_CHECK_DEVICE"] ?? "0") ?? 0
        return try CUDAContext(device: index)
    }

    /// How a skip names what was missing.
    class var unavailableMessage: String { "no usable GPU for the CUDA op check" }

    nonisolated(unsafe) private static var contexts: [ObjectIdentifier: Result<CUDAContext, Error>] = [:]

    func gpu() throws -> CUDAContext {
        let key = ObjectIdentifier(type(of: self))
        let result = Self.contexts[key] ?? Result { try type(of: self).makeContext() }
        Self.contexts[key] = result
        do {
            return try result.get()
        } catch {
            throw XCTSkip("\(type(of: self).unavailableMessage): \(error)")
        }
    }

    var rng = RandomGenerator(seed: 6)

    func random(_ shape: Shape, _ lo: Float = -2, _ hi: Float = 2) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in rng.uniform(lo, hi) })
    }

    func assertClose(_ gpu: Tensor, _ cpu: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(gpu.shape, cpu.shape, what, file: file, line: line)
        let g = gpu.scalars, c = cpu.scalars
        for i in 0..<min(g.count, c.count) {
            let close = (g[i].isNaN && c[i].isNaN) || abs(g[i] - c[i]) <= atol + rtol * abs(c[i])
            if !close {
                return XCTFail("\(what): element \(i) of \(c.count): GPU \(g[i]) vs CPU \(c[i])", file: file, line: line)
            }
        }
    }

    /// Runs a grid-stride kernel and downloads `out` shaped `shape`.
    func run(_ ctx: CUDAContext, _ entry: String, elements: Int, _ args: CUDAKernelArguments,
                     out: CUDABuffer, shape: Shape) throws -> Tensor {
        try ctx.launch(entry, elements: elements, arguments: args)
        return try ctx.download(out, shape: shape)
    }

    func testBroadcastArithmetic() throws {
        let ctx = try gpu()
        let a = random([2, 1, 5]), b = random([3, 1], 0.5, 2)
        let shape: Shape = [2, 3, 5]
        let index = CUDAKernelArguments.stridedIndex(
            shape: shape.dims, a: a.shape.broadcastStrides(to: shape), b: b.shape.broadcastStrides(to: shape))
        let da = try ctx.upload(a), db = try ctx.upload(b)
        for (name, cpu) in [("add", Kernels.add(a, b)), ("sub", Kernels.sub(a, b)), ("mul", Kernels.mul(a, b)), ("div", Kernels.div(a, b))] {
            let out = try ctx.zeros(shape.count)
            let args = CUDAKernelArguments().buffer(da).buffer(db).buffer(out).int64(shape.count).int64Struct(index)
            assertClose(try run(ctx, "\(name)_broadcast_f32", elements: shape.count, args, out: out, shape: shape), cpu, "\(name) broadcast")
        }
    }

    func testActivationsForwardAndBackward() throws {
        let ctx = try gpu()
        let x = random([7, 33]), g = random([7, 33])
        let n = x.count
        let dx = try ctx.upload(x), dg = try ctx.upload(g)
        let cases: [(String, (Tensor) -> Tensor, Bool)] = [  // name, CPU op, backward takes the output y
            ("relu", { $0.relu() }, false), ("gelu", { $0.gelu() }, false), ("sigmoid", { $0.sigmoid() }, true),
            ("tanh", { $0.tanh() }, true), ("exp", { $0.exp() }, true), ("abs", { $0.abs() }, false),
        ]
        for (name, op, savesOutput) in cases {
            let leaf = x.copy()
            leaf.requiresGrad = true
            let y = op(leaf)
            (y * g).sum().backward()
            let out = try ctx.zeros(n)
            assertClose(try run(ctx, "\(name)_f32", elements: n, CUDAKernelArguments().buffer(dx).buffer(out).int64(n),
                                out: out, shape: x.shape), y.detached(), rtol: 1e-5, atol: 1e-6, "\(name) forward")
            let saved = savesOutput ? out : dx
            let grad = try ctx.zeros(n)
            assertClose(try run(ctx, "\(name)_backward_f32", elements: n,
                                CUDAKernelArguments().buffer(dg).buffer(saved).buffer(grad).int64(n), out: grad, shape: x.shape),
                        leaf.grad!, rtol: 1e-4, atol: 1e-6, "\(name) backward")
        }
    }

    func testSumMaxAndSoftmaxAlongAxes() throws {
        let ctx = try gpu()
        let x = random([3, 37, 5])
        let dx = try ctx.upload(x)
        for axis in 0..<3 {
            let (outer, reduced, inner) = Kernels.split(x.shape, axis, axis)
            var dims = x.shape.dims
            dims[axis] = 1
            let out = try ctx.zeros(outer * inner)
            let args = CUDAKernelArguments().buffer(dx).buffer(out).int64(outer).int64(reduced).int64(inner)
            assertClose(try run(ctx, "sum_axis_f32", elements: outer * inner, args, out: out, shape: Shape(dims)),
                        Kernels.sum(x, axes: [axis]), "sum axis \(axis)")
            let values = try ctx.zeros(outer * inner), indices = try ctx.zeros(outer * inner)
            try ctx.launch("max_axis_f32", elements: outer * inner, arguments: CUDAKernelArguments()
                .buffer(dx).buffer(values).buffer(indices).int64(outer).int64(reduced).int64(inner))
            let cpuMax = Kernels.maxAlongAxis(x, axis: axis)
            assertClose(try ctx.download(values, shape: Shape(dims)), cpuMax.values, rtol: 0, atol: 0, "max axis \(axis)")
            let y = try ctx.zeros(x.count)
            for log in [false, true] {
                try ctx.launch("softmax_columns_f32", elements: outer * inner, arguments: CUDAKernelArguments()
                    .buffer(dx).buffer(y).int64(outer).int64(reduced).int64(inner).int32(log ? 1 : 0))
                assertClose(try ctx.download(y, shape: x.shape), Kernels.softmax(x, axis: axis, log: log),
                            "softmax columns axis \(axis) log \(log)")
            }
        }
        let rows = random([9, 1000])
        let dr = try ctx.upload(rows), out = try ctx.zeros(rows.count), sums = try ctx.zeros(9)
        try ctx.launch("softmax_rows_f32", rows: 9, arguments: CUDAKernelArguments().buffer(dr).buffer(out).int64(9).int64(1000).int32(0))
        assertClose(try ctx.download(out, shape: rows.shape), Kernels.softmax(rows, axis: 1, log: false), "softmax rows")
        try ctx.launch("sum_rows_f32", rows: 9, arguments: CUDAKernelArguments().buffer(dr).buffer(sums).int64(9).int64(1000))
        assertClose(try ctx.download(sums, shape: [9, 1]), Kernels.sum(rows, axes: [1]), rtol: 1e-5, atol: 1e-5, "sum rows")
    }

    func testIm2colCol2imAndPoolingMatchTheCPU() throws {
        let ctx = try gpu()
        let x = random([2, 3, 9, 8])
        let g = try Conv2dGeometry(input: x.shape, weight: [4, 3, 3, 2], stride: (2, 1), padding: (1, 1), dilation: (1, 2))
        let rows = 3 * 3 * 2, pixels = g.outHeight * g.outWidth
        let expected = Tensor(uninitialized: [rows, 2 * pixels])
        for b in 0..<2 { Kernels.im2col(x.data + b * 3 * 72, g, into: expected.data + b * pixels, rowStride: 2 * pixels) }
        let geometry = CUDAKernelArguments.convGeometry(g, channels: 3, imageStride: 3 * 72, rowStride: 2 * pixels)
        let dx = try ctx.upload(x), col = try ctx.zeros(expected.count)
        try ctx.launch("im2col_f32", elements: expected.count, arguments: CUDAKernelArguments().buffer(dx).buffer(col).int64Struct(geometry))
        assertClose(try ctx.download(col, shape: expected.shape), expected, rtol: 0, atol: 0, "im2col")
        let image = Tensor.zeros(x.shape)
        for b in 0..<2 { Kernels.col2im(expected.data + b * pixels, g, into: image.data + b * 3 * 72, rowStride: 2 * pixels) }
        let back = try ctx.zeros(x.count)
        try ctx.launch("col2im_f32", elements: x.count, arguments: CUDAKernelArguments().buffer(col).buffer(back).int64Struct(geometry))
        assertClose(try ctx.download(back, shape: x.shape), image, rtol: 0, atol: 0, "col2im")

        let p = try Pool2dGeometry(op: "maxPool2d", input: x.shape, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        let pool = CUDAKernelArguments.poolGeometry(p)
        let (cpuMax, cpuIdx) = Kernels.maxPool2d(x, geometry: p)
        let y = try ctx.zeros(cpuMax.count), idx = try ctx.zeros(cpuMax.count)
        try ctx.launch("max_pool2d_f32", elements: cpuMax.count, arguments: CUDAKernelArguments().buffer(dx).buffer(y).buffer(idx).int64Struct(pool))
        assertClose(try ctx.download(y, shape: p.outputShape), cpuMax, rtol: 0, atol: 0, "max pool")
        let grad = random(p.outputShape)
        let dgrad = try ctx.upload(grad), dxPool = try ctx.zeros(x.count)
        try ctx.launch("max_pool2d_backward_f32", elements: x.count, arguments: CUDAKernelArguments().buffer(dgrad).buffer(idx).buffer(dxPool).int64Struct(pool))
        assertClose(try ctx.download(dxPool, shape: x.shape), Kernels.maxPool2dBackward(grad, indices: cpuIdx, geometry: p), rtol: 0, atol: 0, "max pool backward")
        try ctx.launch("avg_pool2d_f32", elements: cpuMax.count, arguments: CUDAKernelArguments().buffer(dx).buffer(y).int64Struct(pool))
        assertClose(try ctx.download(y, shape: p.outputShape), Kernels.avgPool2d(x, geometry: p), rtol: 0, atol: 0, "avg pool")
        try ctx.launch("avg_pool2d_backward_f32", elements: x.count, arguments: CUDAKernelArguments().buffer(dgrad).buffer(dxPool).int64Struct(pool))
        assertClose(try ctx.download(dxPool, shape: x.shape), Kernels.avgPool2dBackward(grad, geometry: p), rtol: 0, atol: 0, "avg pool backward")
    }

    func testBatchNormAndGemm() throws {
        let ctx = try gpu()
        let x = random([4, 3, 5, 6]), grad = random([4, 3, 5, 6]), w = random([3], 0.5, 1.5), b = random([3])
        let dx = try ctx.upload(x), dgrad = try ctx.upload(grad), dw = try ctx.upload(w), db = try ctx.upload(b)
        let mean = try ctx.zeros(3), variance = try ctx.zeros(3)
        try ctx.launch("batch_norm_statistics_f32", rows: 3, arguments: CUDAKernelArguments().buffer(dx).buffer(mean).buffer(variance).int64(4).int64(3).int64(30))
        let stats = Kernels.batchNormStatistics(x)
        assertClose(try ctx.download(mean, shape: [3]), stats.mean, "batch-norm mean")
        assertClose(try ctx.download(variance, shape: [3]), stats.variance, "batch-norm variance")
        let invStd = Tensor(shape: [3], scalars: stats.variance.scalars.map { 1 / ($0 + 1e-5).squareRoot() })
        let dinv = try ctx.upload(invStd), dmean = try ctx.upload(stats.mean), y = try ctx.zeros(x.count)
        try ctx.launch("batch_norm_apply_f32", elements: x.count, arguments: CUDAKernelArguments()
            .buffer(dx).buffer(y).buffer(dmean).buffer(dinv).buffer(dw).buffer(db).int64(4).int64(3).int64(30))
        assertClose(try ctx.download(y, shape: x.shape), Kernels.batchNormApply(x, mean: stats.mean, invStd: invStd, weight: w, bias: b), "batch-norm apply")
        let cpu = Kernels.batchNormBackward(grad, input: x, mean: stats.mean, invStd: invStd, weight: w, training: true,
                                            inputGrad: true, weightGrad: true, biasGrad: true)
        let gx = try ctx.zeros(x.count), gw = try ctx.zeros(3), gb = try ctx.zeros(3)
        try ctx.launch("batch_norm_backward_f32", rows: 3, arguments: CUDAKernelArguments().buffer(dgrad).buffer(dx).buffer(dmean)
            .buffer(dinv).buffer(dw).buffer(gx).buffer(gw).buffer(gb).int64(4).int64(3).int64(30).int32(1))
        assertClose(try ctx.download(gx, shape: x.shape), cpu.input!, rtol: 1e-4, atol: 1e-5, "batch-norm dx")
        assertClose(try ctx.download(gw, shape: [3]), cpu.weight!, rtol: 1e-4, atol: 1e-5, "batch-norm dweight")
        assertClose(try ctx.download(gb, shape: [3]), cpu.bias!, rtol: 1e-4, atol: 1e-5, "batch-norm dbias")

        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let m = 19, n = 23, k = 37
            let a = random(ta ? [k, m] : [m, k]), bm = random(tb ? [n, k] : [k, n])
            let c = Tensor.zeros([m, n])
            Kernels.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.data, lda: a.shape[1], b: bm.data, ldb: bm.shape[1], c: c.data, ldc: n)
            let da = try ctx.upload(a), dbm = try ctx.upload(bm), dc = try ctx.zeros(m * n)
            try ctx.launch("gemm_f32", grid: ((n + 15) / 16, (m + 15) / 16, 1), block: (16, 16, 1), arguments: CUDAKernelArguments()
                .int32(ta ? 1 : 0).int32(tb ? 1 : 0).int64(m).int64(n).int64(k).float(1)
                .buffer(da).int64(a.shape[1]).int64(0).buffer(dbm).int64(bm.shape[1]).int64(0).float(0).buffer(dc).int64(n).int64(0))
            assertClose(try ctx.download(dc, shape: [m, n]), c, rtol: 1e-4, atol: 1e-5, "gemm ta \(ta) tb \(tb)")
        }
    }

    func testCUBLASGemmMatchesTheCPU() throws {
        let ctx = try gpu()
        let cublas: CUBLAS
        switch CUBLAS.load() {
        case .success(let c): cublas = c
        case .failure(let error): throw XCTSkip("cuBLAS GEMM not checked: \(error)")
        }
        try ctx.makeCurrent()
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let m = 33, n = 17, k = 70, batch = 3
            let a = random(ta ? [batch, k, m] : [batch, m, k]), b = random(tb ? [batch, n, k] : [batch, k, n])
            let c = Tensor.zeros([batch, m, n])
            for i in 0..<batch {
                Kernels.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.data + i * m * k, lda: a.shape[2],
                             b: b.data + i * k * n, ldb: b.shape[2], c: c.data + i * m * n, ldc: n)
            }
            let da = try ctx.upload(a), db = try ctx.upload(b), dc = try ctx.zeros(c.count)
            try cublas.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: da.address, lda: a.shape[2], strideA: m * k,
                            b: db.address, ldb: b.shape[2], strideB: k * n, c: dc.address, ldc: n, strideC: m * n, batch: batch)
            assertClose(try ctx.download(dc, shape: c.shape), c, rtol: 1e-4, atol: 1e-5, "cuBLAS gemm ta \(ta) tb \(tb)")
        }
    }
}
