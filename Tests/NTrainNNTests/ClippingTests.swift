import NTrainCore
import NTrainNN
import XCTest

/// Gradient clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_, and the finite check.
final class ClippingTests: XCTestCase {
    private func parameters(_ c: ClippingCase) -> [Tensor] {
        let shapes = OptimGolden.shared.optimizers[0].shapes
        return zip(shapes, c.grads).map { shape, g in
            let p = Tensor.zeros(Shape(shape))
            p.grad = Tensor(shape: Shape(shape), scalars: g)
            return p
        }
    }

    func testClipGradNormMatchesPyTorch() throws {
        let cases = OptimGolden.shared.clipping.filter { $0.kind == "norm" }
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        for c in cases {
            let params = parameters(c)
            let normType = try XCTUnwrap(c.normType).value
            let total = clipGradNorm(params, maxNorm: try XCTUnwrap(c.maxNorm), normType: normType)
            let label = "maxNorm \(c.maxNorm!) normType \(normType)"
            assertClose(Double(total), try XCTUnwrap(c.totalNorm), label)
            for (p, expected) in zip(params, c.clipped) { assertClose(p.grad!.scalars, expected, label) }
        }
    }

    func testClipGradValueMatchesPyTorch() throws {
        for c in OptimGolden.shared.clipping where c.kind == "value" {
            let params = parameters(c)
            clipGradValue(params, clipValue: try XCTUnwrap(c.clipValue))
            for (p, expected) in zip(params, c.clipped) { assertClose(p.grad!.scalars, expected, "clip value") }
        }
    }

    func testParametersWithoutGradientAreIgnored() {
        let a = Tensor.zeros([2]), b = Tensor.zeros([2])
        a.grad = Tensor(shape: [2], scalars: [3, 4])
        XCTAssertEqual(clipGradNorm([a, b], maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertNil(b.grad)
        XCTAssertEqual(a.grad!.scalars[0], 3 / (5 + 1e-6), accuracy: 1e-6)
        XCTAssertEqual(clipGradNorm([b], maxNorm: 1), 0)
        clipGradValue([a, b], clipValue: 0.1)
        XCTAssertEqual(a.grad!.scalars, [0.1, 0.1])
    }

    func testGradientsAreFinite() {
        let a = Tensor.zeros([3]), b = Tensor.zeros([2])
        XCTAssertTrue(gradientsAreFinite([a, b]))
        a.grad = Tensor(shape: [3], scalars: [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, -.leastNonzeroMagnitude])
        XCTAssertTrue(gradientsAreFinite([a, b]))
        for bad: Float in [.nan, -.nan, .signalingNaN, .infinity, -.infinity] {
            b.grad = Tensor(shape: [2], scalars: [0, bad])
            XCTAssertFalse(gradientsAreFinite([a, b]), "\(bad)")
        }
        // A non-finite gradient gives a non-finite norm (the NaN guard must run before clipping).
        let norm = clipGradNorm([a, b], maxNorm: 1)
        XCTAssertFalse(norm.isFinite, "\(norm)")
    }
}
