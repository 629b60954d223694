import Foundation
import XCTest
@testable import NTrainCore

/// Every `Backend` operation run by `CPUBackend` and by `CUDABackend` (on the CUDA host emulator,
/// or a real GPU from scripts/gpu_check.sh) on the same inputs: the same results. Adding an
/// operation to the protocol means adding its case here.
final class BackendTests: GPUTestCase {
    /// Runs `op` once on CPU tensors and once on GPU copies of them (the same backend call, chosen
    /// by `Tensor.backend`), then compares every tensor the op wrote.
    private func compare(_ what: String, _ tensors: [Tensor], rtol: Float = 1e-6, atol: Float = 1e-7,
                         file: StaticString = #filePath, line: UInt = #line, _ op: ([Tensor]) -> Void) {
        let cpu = tensors.map { $0.copy() }
        let gpu = tensors.map { $0.to(Self.gpu) }
        op(cpu)
        op(gpu)
        XCTAssertTrue(gpu[0].backend is CUDABackend && cpu[0].backend is CPUBackend, what, file: file, line: line)
        for (i, (g, c)) in zip(gpu, cpu).enumerated() {
            assertClose(g, c, rtol: rtol, atol: atol, "\(what): tensor \(i)", file: file, line: line)
        }
    }

    /// Every built-in unary op (a new one in `UnaryOp.builtins` is tested here by itself), and the
    /// parameter values whose kernels take another branch.
    static let unaryOps: [UnaryOp] = UnaryOp.builtins + [.pow(3), .pow(0), .clamp(-0.5, 1), .leakyRelu(slope: 0.1)]

    func testUnaryOpsAgree() {
        for op in Self.unaryOps {
            let positive = [UnaryOp.log, .sqrt].contains(op)
            let x = random([4, 513], positive ? 0.1 : -3, 3), g = random([4, 513])
            let (yc, sc) = x.backend.unary(op, x, recording: true)
            let xg = x.to(Self.gpu)
            let (yg, sg) = xg.backend.unary(op, xg, recording: true)
            // CUDA's expf/erff are within 2 ulp of the CPU's Cephes-style functions.
            assertClose(yg, yc, rtol: 1e-5, "\(op.name) forward")
            assertClose(xg.backend.unaryBackward(op, g.to(Self.gpu), saved: sg!), x.backend.unaryBackward(op, g, saved: sc!), rtol: 1e-5,
                        atol: 1e-5, "\(op.name) backward")
        }
    }

    func testArithmeticAgrees() {
        for op in BinaryOp.allCases {
            for (sa, sb) in [([3, 5], [3, 5]), ([3, 5], [5]), ([4, 1, 5], [3, 1]), ([1], [2, 3])] as [([Int], [Int])] {
                let a = random(Shape(sa)), b = random(Shape(sb), 0.5, 2)
                assertClose(a.to(Self.gpu).backend.binary(op, a.to(Self.gpu), b.to(Self.gpu)), a.backend.binary(op, a, b), "\(op.name) \(sa) \(sb)")
            }
        }
        let a = random([4, 3, 5]), ag = a.to(Self.gpu)
        assertClose(ag.backend.scale(ag, -0.5), a.backend.scale(a, -0.5), "scale")
        assertClose(ag.backend.addScalar(ag, 2), a.backend.addScalar(a, 2), "add scalar")
        for shape in [[1], [3, 1], [5], [4, 1, 5]] as [[Int]] {
            assertClose(ag.backend.sumToShape(ag, Shape(shape)), a.backend.sumToShape(a, Shape(shape)), atol: 1e-5, "sum to \(shape)")
        }
    }

    func testReductionsAndSoftmaxAgree() {
        let x = random([3, 4, 5]), xg = x.to(Self.gpu)
        func both(_ what: String, _ op: (any Backend, Tensor) -> Differentiated) {
            let (yc, bc) = op(x.backend, x), (yg, bg) = op(xg.backend, xg)
            assertClose(yg, yc, rtol: 1e-5, atol: 1e-5, "\(what) forward")
            let g = random(yc.shape)
            assertClose(bg(g.to(Self.gpu))[0], bc(g)[0], rtol: 1e-5, atol: 1e-5, "\(what) backward")
        }
        both("sum all") { $0.sumAll($1) }
        for axes in [[0], [1, 2], [2], []] {
            both("sum \(axes)") { $0.sum($1, axes: axes, keepDims: false) }
        }
        both("variance unbiased") { $0.variance($1, axes: [0, 2], keepDims: true, unbiased: true) }
        for axis in 0..<3 {
            both("max \(axis)") { $0.maxAlong($1, axis: axis, keepDims: false) }
            XCTAssertEqual(xg.backend.argmax(xg, axis: axis).to(.cpu).scalars, x.backend.argmax(x, axis: axis).scalars, "argmax \(axis)")
            both("softmax \(axis)") { $0.softmax($1, axis: axis, log: false) }
            both("log softmax \(axis)") { $0.softmax($1, axis: axis, log: true) }
        }
    }

    /// A differentiable backend primitive on CPU inputs and on GPU copies: outputs and every
    /// input gradient for the same output gradient.
    private func differentiated(_ what: String, _ inputs: [Tensor], rtol: Float = 1e-4, atol: Float = 1e-4,
                                _ op: (any Backend, [Tensor]) -> Differentiated) {
        let gpu = inputs.map { $0.to(Self.gpu) }
        let (yc, bc) = op(inputs[0].backend, inputs), (yg, bg) = op(gpu[0].backend, gpu)
        assertClose(yg, yc, rtol: rtol, atol: atol, "\(what) forward")
        let g = random(yc.shape)
        for (i, (gg, gc)) in zip(bg(g.to(Self.gpu)), bc(g)).enumerated() {
            assertClose(gg, gc, rtol: rtol, atol: atol, "\(what) gradient \(i)")
        }
    }

    func testLinearAlgebraConvolutionPoolingAndBatchNormAgree() throws {
        for p in [random([6, 5]), random([2, 6, 5])] {
            let w = random([5, 4])
            differentiated("matmul \(p.shape)", [p, w]) { b, t in t.forEach { $0.requiresGrad = true }; return b.matmul(t[0], t[1]) }
        }
        differentiated("linear", [random([7, 5]), random([3, 5]), random([3])]) { b, t in
            t.forEach { $0.requiresGrad = true }
            return b.linear(t[0], weight: t[1], bias: t[2])
        }
        let x = random([2, 3, 9, 9]), w = random([4, 3, 3, 3], -0.5, 0.5), bias = random([4])
        let g = try Conv2dGeometry(input: x.shape, weight: w.shape, stride: (1, 1), padding: (1, 1), dilation: (1, 1), groups: 1)
        let pool = try Pool2dGeometry(op: "pool", input: [2, 4, 9, 9], kernel: (2, 2), stride: nil, padding: (0, 0))
        let inputs = { [x, w, bias] }
        differentiated("conv2d", inputs()) { b, t in t.forEach { $0.requiresGrad = true }; return b.conv2d(t[0], weight: t[1], bias: t[2], geometry: g) }
        differentiated("conv relu max pool", inputs()) { b, t in
            t.forEach { $0.requiresGrad = true }
            return b.conv2dReluMaxPool(t[0], weight: t[1], bias: t[2], geometry: g, pool: pool)
        }
        differentiated("conv gelu avg pool", inputs()) { b, t in
            t.forEach { $0.requiresGrad = true }
            return b.conv2dGeluAvgPool(t[0], weight: t[1], bias: t[2], geometry: g, pool: pool)
        }
        let y = random([2, 4, 9, 9])
        differentiated("max pool", [y]) { b, t in b.maxPool2d(t[0], geometry: pool) }
        differentiated("avg pool", [y]) { b, t in b.avgPool2d(t[0], geometry: pool) }
        differentiated("relu max pool", [y]) { b, t in b.reluMaxPool2d(t[0], geometry: pool) }
        for training in [true, false] {
            let mean = random([4]), variance = random([4], 0.5, 2)
            differentiated("batch norm training \(training)", [y, random([4]), random([4])]) { b, t in
                t.forEach { $0.requiresGrad = true }
                let device = t[0].device
                return b.batchNorm(t[0], n: 2, c: 4, s: 81, runningMean: mean.to(device), runningVar: variance.to(device), weight: t[1], bias: t[2],
                                   training: training, momentum: 0.1, eps: 1e-5)
            }
        }
    }

    func testStorageFillsAndCopiesAcrossDevices() {
        let host = random([5, 7])
        let device = Tensor(uninitialized: [5, 7], device: Self.gpu)
        XCTAssertEqual(device.storage.device, Self.gpu, "allocated by the device's backend")
        device.assign(host)  // up
        XCTAssertEqual(device.copy().to(.cpu).scalars, host.scalars, "copy on the device")
        let back = Tensor(uninitialized: [5, 7])
        back.assign(device)  // down
        XCTAssertEqual(back.scalars, host.scalars)
        XCTAssertEqual(Tensor.full([3, 3], 2.5, device: Self.gpu).to(.cpu).scalars, Tensor.full([3, 3], 2.5).scalars)
        let labels = Tensor.zeros([4], dtype: .int64, device: Self.gpu)
        XCTAssertEqual(labels.to(.cpu).scalars, [0, 0, 0, 0])
        device.zero()
        XCTAssertEqual(device.to(.cpu).scalars, [Float](repeating: 0, count: 35))
    }

    func testCopiesAndGathersAgree() {
        let a = random([3, 4, 5]), ag = a.to(Self.gpu)
        for axes in [[2, 0, 1], [0, 1, 2], [1, 0, 2]] {
            assertClose(ag.backend.permute(ag, axes), a.backend.permute(a, axes), rtol: 0, atol: 0, "permute \(axes)")
        }
        let m = random([37, 70]), mg = m.to(Self.gpu)
        assertClose(mg.backend.permute(mg, [1, 0]), m.backend.permute(m, [1, 0]), rtol: 0, atol: 0, "transpose")
        let row = random([1, 5])
        assertClose(row.to(Self.gpu).backend.broadcast(row.to(Self.gpu), to: [3, 4, 5]), row.backend.broadcast(row, to: [3, 4, 5]), rtol: 0, atol: 0, "broadcast")
        // A flip of axis 1 with an offset, into the middle of a padded destination.
        compare("strided copy", [a, Tensor.zeros([3, 6, 7])]) { t in
            t[0].backend.stridedCopy(shape: [3, 4, 5], src: t[0], srcOffset: 15, srcStrides: [20, -5, 1], dst: t[1], dstOffset: 8, dstStrides: [42, 7, 1])
        }
        compare("accumulate", [random([300]), random([300])]) { t in t[0].backend.accumulate(t[0], t[1]) }
        let scores = random([6, 4]), classes = [3, 0, 1, 1, 2, 3]
        let (gc, bc) = scores.backend.gatherRows(scores, classes: classes)
        let sg = scores.to(Self.gpu)
        let (gg, bg) = sg.backend.gatherRows(sg, classes: classes)
        assertClose(gg, gc, rtol: 0, atol: 0, "gather")
        let up = random([6])
        assertClose(bg(up.to(Self.gpu))[0], bc(up)[0], rtol: 0, atol: 0, "gather backward")
        assertClose(CUDABackend().oneHot(classes, classes: 4, device: Self.gpu), CPUBackend().oneHot(classes, classes: 4, device: .cpu), rtol: 0, atol: 0, "one hot")
    }

    func testOptimizerUpdatesAgree() {
        let shape: Shape = [3, 700]
        for nesterov in [false, true] {
            for first in [true, false] {
                compare("sgd nesterov \(nesterov) first \(first)", [random(shape), random(shape), random(shape)]) { t in
                    t[0].backend.sgdStep(t[0], grad: t[1], buffer: t[2],
                                         SGDUpdate(negativeLR: -0.1, weightDecay: 0.01, momentum: 0.9, keep: 1, nesterov: nesterov, first: first))
                }
            }
        }
        compare("sgd without momentum", [random(shape), random(shape)]) { t in
            t[0].backend.sgdStep(t[0], grad: t[1], buffer: nil, SGDUpdate(negativeLR: -0.1, weightDecay: 0, momentum: 0, keep: 1, nesterov: false, first: false))
        }
        for (amsgrad, shrink) in [(false, nil), (true, Float(0.999))] {
            compare("adam amsgrad \(amsgrad)", [random(shape), random(shape), random(shape), random(shape, 0, 1), random(shape, 0, 1)]) { t in
                t[0].backend.adamStep(t[0], grad: t[1], m: t[2], v: t[3], vmax: amsgrad ? t[4] : nil,
                                      AdamUpdate(shrink: shrink, l2: shrink == nil ? 0.01 : 0, w1: 0.1, decay2: 0.999, w2: 0.001,
                                                 bc2Sqrt: 0.2, eps: 1e-8, negativeStep: -0.01))
            }
        }
        compare("nadam", [random(shape), random(shape), random(shape), random(shape, 0, 1)]) { t in
            t[0].backend.nadamStep(t[0], grad: t[1], m: t[2], v: t[3],
                                   NAdamUpdate(shrink: nil, l2: 0.01, w1: 0.1, decay2: 0.999, w2: 0.001, bc2: 0.05, eps: 1e-8,
                                               gradCoefficient: -0.002, averageCoefficient: -0.02))
        }
        compare("adagrad", [random(shape), random(shape), random(shape, 0, 1)]) { t in
            t[0].backend.adagradStep(t[0], grad: t[1], sum: t[2], AdagradUpdate(weightDecay: 0.01, eps: 1e-10, negativeCLR: -0.01))
        }
        for (momentum, centered) in [(Float(0), false), (0.9, true)] {
            compare("rmsprop momentum \(momentum) centered \(centered)", [random(shape), random(shape), random(shape, 0.5, 1), random(shape), random(shape, -0.1, 0.1)]) { t in
                t[0].backend.rmspropStep(t[0], grad: t[1], squareAverage: t[2], buffer: momentum > 0 ? t[3] : nil, gradAverage: centered ? t[4] : nil,
                                         RMSpropUpdate(decay: 0.99, keep: 0.01, eps: 1e-8, weightDecay: 0.001, momentum: momentum, negativeLR: -0.01))
            }
        }
    }

    func testClippingAndTheFiniteCheckAgree() {
        for normType in [Float(2), 1, .infinity] {
            var norms: [Float] = []
            compare("clip norm \(normType)", [random([5, 300]), random([17])]) { t in
                norms.append(t[0].backend.clipGradNorm(t, maxNorm: 0.5, normType: normType))
            }
            XCTAssertEqual(norms[0], norms[1], "norm \(normType)")
        }
        compare("clip value", [random([5, 300]), random([17])]) { t in t[0].backend.clipGradValue(t, clipValue: 0.3) }
        let finite = random([1000])
        let bad = random([1000])
        bad.data[617] = .nan
        for (t, expected) in [(finite, true), (bad, false)] {
            XCTAssertEqual(t.backend.allFinite([finite, t]), expected)
            XCTAssertEqual(t.to(Self.gpu).backend.allFinite([finite.to(Self.gpu), t.to(Self.gpu)]), expected)
        }
    }

    func testClassificationLossesAgree() {
        let logits = random([37, 10], -4, 4)
        let targets = Tensor(uninitialized: [37], dtype: .int32)
        for i in 0..<37 { targets.int32Data[i] = Int32(i * 7 % 10) }
        for smoothing in [Float(0), 0.2] {
            let (lc, bc) = logits.backend.crossEntropy(logits, targets, n: 37, c: 10, labelSmoothing: smoothing)
            let g = logits.to(Self.gpu)
            let (lg, bg) = g.backend.crossEntropy(g, targets.to(Self.gpu), n: 37, c: 10, labelSmoothing: smoothing)
            assertClose(lg, lc, "cross entropy \(smoothing)")
            assertClose(bg(Tensor(2).to(Self.gpu)), bc(Tensor(2)), "cross entropy backward \(smoothing)")
        }
        let logp = logits.logSoftmax(axis: 1)
        let (lc, bc) = logp.backend.nllLoss(logp, targets, n: 37, c: 10)
        let g = logp.to(Self.gpu)
        let (lg, bg) = g.backend.nllLoss(g, targets.to(Self.gpu), n: 37, c: 10)
        assertClose(lg, lc, "nll")
        assertClose(bg(Tensor(0.5).to(Self.gpu)), bc(Tensor(0.5)), "nll backward")
    }

    func testMeanLossAgrees() {
        let prediction = random([9, 3]), target = random([9, 3])
        let (lc, bc) = prediction.backend.meanLoss(prediction, target, targetNeedsGradient: true,
                                                   value: { ($0 - $1) * ($0 - $1) }, derivative: { 2 * ($0 - $1) })
        let p = prediction.to(Self.gpu), t = target.to(Self.gpu)
        let (lg, bg) = p.backend.meanLoss(p, t, targetNeedsGradient: true, value: { ($0 - $1) * ($0 - $1) }, derivative: { 2 * ($0 - $1) })
        XCTAssertEqual(lg.device, Self.gpu)
        assertClose(lg, lc, "mse")
        let (gpc, gtc) = bc(Tensor(1.5)), (gpg, gtg) = bg(Tensor(1.5).to(Self.gpu))
        XCTAssertEqual(gpg.device, Self.gpu)
        assertClose(gpg, gpc, "mse prediction gradient")
        assertClose(gtg, gtc, "mse target gradient")
    }
}
