import Foundation
import NTrainCUDAEmulator
import XCTest
@testable import NTrainCore

/// A new elementwise op is one `UnaryOp` value, here softplus (PyTorch's `F.softplus`, β = 1,
/// without its linear tail), defined in this file and nowhere else: it runs forward and backward
/// on the CPU, passes a gradient check, and on a GPU runs the CUDA kernels generated from its
/// expressions (NVRTC compiles them; the emulator or a real GPU runs them).
let softplus = UnaryOp(name: "softplus", saves: .input,
                       forward: { Foundation.log1p(Foundation.exp($0)) },
                       backward: { g, x in g / (1 + Foundation.exp(-x)) },
                       cuda: (forward: "log1pf(expf(x))", backward: "gv / (1.0f + expf(-v))"))

/// `β·x` with a parameter, to check parameters reach both backends.
func scaled(_ beta: Float) -> UnaryOp {
    UnaryOp(name: "scaled_by", parameters: [beta], saves: .input, forward: { beta * $0 }, backward: { g, _ in beta * g },
            cuda: (forward: "p0 * x", backward: "p0 * gv"))
}

final class UnaryOpDefinitionTests: XCTestCase {
    func testANewOpRunsOnTheCPUWithItsGradient() {
        var rng = RandomGenerator(seed: 5)
        let x = rng.tensor([3, 7], -3, 3, requiresGrad: false)
        let y = x.applying(softplus)
        for (xi, yi) in zip(x.scalars, y.scalars) { XCTAssertEqual(yi, Foundation.log1p(Foundation.exp(xi)), accuracy: 1e-6) }
        XCTAssertEqual(x.applying(scaled(-2.5)).scalars, x.scalars.map { -2.5 * $0 })
        let result = gradientCheck([rng.tensor([4, 5], -3, 3)]) { $0[0].applying(softplus) }
        XCTAssertTrue(result.passed, "\(result)")
        let scaledCheck = gradientCheck([rng.tensor([6])]) { $0[0].applying(scaled(0.75)) }
        XCTAssertTrue(scaledCheck.passed, "\(scaledCheck)")
    }

    /// The name becomes a CUDA kernel's name, so it must be an identifier, and another op's name
    /// (a built-in's traps).
    func testOpsAreEqualByNameAndParameters() {
        XCTAssertEqual(UnaryOp.pow(2), .pow(2))
        XCTAssertNotEqual(UnaryOp.pow(2), .pow(3))
        XCTAssertNotEqual(softplus, .relu)
        XCTAssertEqual(UnaryOp.clamp(-1, 1).description, "clamp(-1.0, 1.0)")
        // Only the built-ins take the hand-written CPU loops and the activations unit.
        XCTAssertTrue(UnaryOp.builtins.allSatisfy(\.isBuiltin))
        XCTAssertFalse(softplus.isBuiltin)
        XCTAssertNil(CPUBackend().fastUnary(softplus, Tensor(shape: [2], scalars: [1, 2]), recording: false))
    }

    /// Each built-in op's hand-written CPU kernel (where it has one) gives the same bits as its
    /// definition's scalar functions, forward and backward: the definition is the op.
    func testHandWrittenCPUKernelsMatchTheirDefinitions() {
        var rng = RandomGenerator(seed: 9)
        let cpu = CPUBackend()
        let ops = UnaryOp.builtins + [.pow(3), .pow(0), .pow(-1), .clamp(-0.5, .infinity), .leakyRelu(slope: 0.2)]
        for op in ops {
            let positive = ["log", "sqrt"].contains(op.name)
            var values = (0..<2000).map { _ in rng.uniform(positive ? 0.01 : -9, 9) }
            values += positive ? [0, .infinity, .nan] : [0, -0.0, 1, -1, .infinity, -.infinity, .nan, 100, -100]
            let x = Tensor(shape: [values.count], scalars: values), g = rng.tensor([values.count], requiresGrad: false)
            let (y, saved) = cpu.unary(op, x, recording: true)
            let want = cpu.genericUnary(op, x)
            XCTAssertEqual(bits(y), bits(want), "\(op) forward")
            let gradient = cpu.unaryBackward(op, g, saved: saved!)
            let wantGradient = cpu.genericUnaryBackward(op, g, saved: op.saves == .output ? want : x)
            XCTAssertEqual(bits(gradient), bits(wantGradient), "\(op) backward")
        }
    }

    private func bits(_ t: Tensor) -> [UInt32] { t.scalars.map { $0.isNaN ? 0x7fc0_0000 : $0.bitPattern } }
}

/// The same new ops on a GPU: the generated kernels against the CPU, forward and backward.
final class UnaryOpDefinitionGPUTests: GPUTestCase {
    func testANewOpRunsOnTheGPU() {
        check("softplus", [random([5, 300], -4, 4)], rtol: 1e-5) { $0[0].applying(softplus) }
        check("scaled", [random([7])]) { $0[0].applying(scaled(-1.5)) }
        check("softplus then scaled", [random([2, 9])], rtol: 1e-5) { $0[0].applying(softplus).applying(scaled(3)) }
    }

    /// The generated unit is what NVRTC compiles: both kernels are entries of its PTX.
    func testTheGeneratedUnitCompiles() throws {
        let unit = CUDAKernels.pointwise(softplus)
        XCTAssertEqual(unit.name, "softplus.cu")
        XCTAssertEqual(unit.entryPoints, ["softplus_f32", "softplus_backward_f32"])
        XCTAssertEqual(CUDAKernels.pointwise(.gelu), CUDAKernels.activations)
        let nvrtc: NVRTC
        do { nvrtc = try NVRTC.shared() } catch { throw XCTSkip("NVRTC not found: \(error)") }
        let ptx = try nvrtc.compile(unit.source, name: unit.name, options: NVRTC.defaultOptions(architecture: "compute_80"))
        for entry in unit.entryPoints { XCTAssertTrue(ptx.contains(".entry \(entry)("), entry) }
    }
}
