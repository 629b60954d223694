import Foundation
import XCTest
import NTrainCore
@testable import NTrainNN

/// Compares losses and a small network's forward/backward with PyTorch (scripts/golden_nn.py).
final class NNGoldenTests: XCTestCase {
    private var golden: [String: Any] = [:]

    override func setUpWithError() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "nn_golden", withExtension: "json", subdirectory: "Fixtures"))
        golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    private func floats(_ any: Any?) -> [Float] { (any as? [Double] ?? (any as? [NSNumber])?.map(\.doubleValue) ?? []).map(Float.init) }

    private func assertClose(_ a: [Float], _ b: [Float], rel: Float = 1e-5, abs absTol: Float = 1e-6, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
        for (i, (x, y)) in zip(a, b).enumerated() where Swift.abs(x - y) > absTol + rel * Swift.abs(y) {
            XCTFail("\(what)[\(i)]: \(x) vs PyTorch \(y)", file: file, line: line)
            return
        }
    }

    func testLossesMatchPyTorch() throws {
        let l = try XCTUnwrap(golden["losses"] as? [String: Any])
        let cases = try XCTUnwrap(l["cases"] as? [String: [String: Any]])
        let shape = (l["shape"] as! [Int])
        let targets = Tensor(shape: [shape[0]], int32s: (l["targets"] as! [Int]).map(Int32.init))
        func input(_ values: [Float], _ s: Shape) -> Tensor { Tensor(shape: s, scalars: values, requiresGrad: true) }
        func run(_ name: String, _ x: Tensor, _ f: (Tensor) -> Tensor) {
            let c = cases[name]!
            let v = f(x)
            v.backward()
            assertClose([v.item()], [Float(c["value"] as! Double)], name)
            assertClose(x.grad!.scalars, floats(c["grad"]), "\(name) grad")
        }
        let logits = floats(l["logits"])
        run("cross_entropy", input(logits, Shape(shape))) { crossEntropy($0, targets) }
        run("cross_entropy_smooth", input(logits, Shape(shape))) { crossEntropy($0, targets, labelSmoothing: 0.1) }
        run("nll", input(floats(cases["nll"]!["input"]), Shape(shape))) { nllLoss($0, targets) }
        let pred = floats(l["prediction"]), target = Tensor(shape: [4, 3], scalars: floats(l["target"]))
        let btarget = Tensor(shape: [4, 3], scalars: floats(l["binary_target"]))
        run("mse", input(pred, [4, 3])) { mseLoss($0, target) }
        run("l1", input(pred, [4, 3])) { l1Loss($0, target) }
        run("smooth_l1", input(pred, [4, 3])) { smoothL1Loss($0, target, beta: 0.5) }
        run("binary_cross_entropy", input(floats(cases["binary_cross_entropy"]!["input"]), [4, 3])) { binaryCrossEntropy($0, btarget) }
        run("binary_cross_entropy_with_logits", input(pred, [4, 3])) { binaryCrossEntropyWithLogits($0, btarget) }
    }

    func testSmallNetworkMatchesPyTorch() throws {
        let n = try XCTUnwrap(golden["network"] as? [String: Any])
        var g = RandomGenerator(seed: 1)
        let net = Sequential(named: [
            ("conv1", try Conv2d(2, 4, kernel: (3, 3), padding: (1, 1), generator: &g)),
            ("bn1", BatchNorm(features: 4, spatial: true)),
            ("relu", Activation(.relu)),
            ("pool", try Pool2d(.max, kernel: (2, 2))),
            ("flatten", Flatten()),
            ("fc", Linear(36, 3, generator: &g)),
        ])
        let state = try XCTUnwrap(n["state"] as? [String: Any])
        for (name, tensor) in net.stateDict() where tensor.dtype == .float32 {
            tensor.assign(Tensor(shape: tensor.shape, scalars: floats(state[name])))
        }
        let x = Tensor(shape: Shape(n["input_shape"] as! [Int]), scalars: floats(n["input"]))
        let y = Tensor(shape: [3], int32s: (n["targets"] as! [Int]).map(Int32.init))
        let logits = net(x)
        assertClose(logits.scalars, floats(n["output"]), rel: 1e-4, abs: 1e-5, "output")
        let loss = crossEntropy(logits, y)
        assertClose([loss.item()], [Float(n["loss"] as! Double)], rel: 1e-5, "loss")
        loss.backward()
        let grads = try XCTUnwrap(n["grads"] as? [String: Any])
        for (name, p) in net.namedParameters() {
            assertClose(p.grad!.scalars, floats(grads[name]), rel: 1e-4, abs: 1e-5, "grad \(name)")
        }
        let bn = net.children[1].1 as! BatchNorm
        assertClose(bn.runningMean.scalars, floats(n["running_mean"]), "running_mean")
        assertClose(bn.runningVar.scalars, floats(n["running_var"]), "running_var")
    }
}
