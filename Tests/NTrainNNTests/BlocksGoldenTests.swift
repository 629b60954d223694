import Foundation
import NTrainCore
import NTrainNN
import XCTest

/// A whole ResNet-20 forward and backward, and SGD with parameter groups, against PyTorch
/// (scripts/golden_blocks.py). Weights and inputs come from a formula both sides compute, so the
/// fixture holds only PyTorch's results.
final class BlocksGoldenTests: XCTestCase {
    private var golden: [String: Any] = [:]

    override func setUpWithError() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "blocks_golden", withExtension: "json", subdirectory: "Fixtures"))
        golden = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    private func floats(_ any: Any?) -> [Float] { (any as? [NSNumber] ?? []).map(\.floatValue) }

    /// The script's `filled`: element i of tensor `seed` is `scale · sin(1.3 i + 0.7 seed + 0.1)`, in double, rounded to float.
    private func filled(_ shape: [Int], seed: Int, scale: Double) -> [Float] {
        (0..<shape.reduce(1, *)).map { Float(scale * sin(1.3 * Double($0) + 0.7 * Double(seed) + 0.1)) }
    }

    /// ‖a − b‖ / ‖b‖: a whole tensor's relative error (elementwise ratios are meaningless where a
    /// gradient is near zero).
    private func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(a, b) {
            diff += Double(x - y) * Double(x - y)
            norm += Double(y) * Double(y)
        }
        return (diff / max(norm, 1e-30)).squareRoot()
    }

    func testResNet20ForwardAndEveryGradientMatchPyTorch() throws {
        let r = try XCTUnwrap(golden["resnet20"] as? [String: Any])
        let inputShape = try XCTUnwrap(r["input_shape"] as? [Int])
        let model = try ResNet.cifar(depth: 20, width: r["width"] as! Int, input: Shape(Array(inputShape.dropFirst())), outputs: 10, seed: 1)
        let own = Dictionary(uniqueKeysWithValues: model.namedParameters())
        let specs = try XCTUnwrap(r["parameters"] as? [[String: Any]])
        XCTAssertEqual(specs.count, own.count, "PyTorch's ResNet-20 has \(specs.count) parameters, ntrain's \(own.count)")
        for spec in specs {
            let name = spec["name"] as! String, shape = spec["shape"] as! [Int], seed = spec["seed"] as! Int
            let p = try XCTUnwrap(own[name], "ntrain's ResNet-20 has no \(name)")
            XCTAssertEqual(p.shape.dims, shape, name)
            let values: [Float]
            switch spec["kind"] as! String {
            case "scale": values = filled(shape, seed: seed, scale: 0.2).map { 1 + $0 }
            case "bias": values = filled(shape, seed: seed, scale: 0.1)
            default: values = filled(shape, seed: seed, scale: (3.0 / Double(shape.dropFirst().reduce(1, *))).squareRoot())
            }
            p.assign(Tensor(shape: p.shape, scalars: values))
        }
        let x = Tensor(shape: Shape(inputShape), scalars: filled(inputShape, seed: r["input_seed"] as! Int, scale: 1.5))
        let y = Tensor(shape: [4], int32s: (r["targets"] as! [Int]).map(Int32.init))
        model.train()
        let logits = model(x)
        XCTAssertLessThan(relativeError(logits.scalars, floats(r["logits"])), 1e-5, "logits")
        let loss = Loss.crossEntropy(labelSmoothing: Float(r["label_smoothing"] as! Double))(logits, y)
        XCTAssertEqual(Double(loss.item()), r["loss"] as! Double, accuracy: 1e-4 * (r["loss"] as! Double))
        loss.backward()
        let grads = try XCTUnwrap(r["grads"] as? [String: Any])
        var worst = (name: "", error: 0.0)
        for (name, p) in own {
            let g = try XCTUnwrap(p.grad, "\(name) has no gradient")
            let error = relativeError(g.scalars, floats(grads[name]))
            if error > worst.error { worst = (name, error) }
        }
        XCTAssertLessThan(worst.error, 1e-4, "largest relative gradient error: \(worst.name)")
        let buffers = Dictionary(uniqueKeysWithValues: model.namedBuffers())
        for key in ["running_mean", "running_var"] {
            for (name, expected) in try XCTUnwrap(r[key] as? [String: Any]) {
                let t = try XCTUnwrap(buffers[name], name)
                XCTAssertLessThan(relativeError(t.scalars, floats(expected)), 1e-5, name)
            }
        }
    }

    func testSGDParameterGroupsFollowPyTorch() throws {
        let c = try XCTUnwrap(golden["sgd_groups"] as? [String: Any])
        let shapes = c["shapes"] as! [[Int]]
        let initSeed = c["init_seed"] as! Int, gradSeed = c["grad_seed"] as! Int
        let params = shapes.enumerated().map { j, s in
            Tensor(shape: Shape(s), scalars: filled(s, seed: initSeed + j, scale: 1), requiresGrad: true)
        }
        let scales = (c["lr_scale"] as! [Double]).map(Float.init), decays = (c["weight_decay"] as! [Double]).map(Float.init)
        let momentum = Float(c["momentum"] as! Double), base = Float(c["base_lr"] as! Double)
        let members = [[0, 1], [2]]
        let groups = try members.enumerated().map { g, indices in
            ParameterGroups.Group(optimizer: try SGD(parameters: indices.map { params[$0] }, momentum: momentum, weightDecay: decays[g], nesterov: true),
                                  learningRateScale: scales[g], indices: indices)
        }
        let optimizer = ParameterGroups(parameters: params, groups: groups, learningRate: base)
        let expected = c["params"] as! [[Any]]
        for (step, after) in expected.enumerated() {
            for (j, p) in params.enumerated() {
                p.grad = Tensor(shape: p.shape, scalars: filled(shapes[j], seed: gradSeed + 10 * step + j, scale: 0.5))
            }
            optimizer.step()
            for (j, p) in params.enumerated() {
                for (a, b) in zip(p.scalars, floats(after[j])) {
                    XCTAssertEqual(a, b, accuracy: 1e-6 + 1e-5 * abs(b), "step \(step + 1), parameter \(j)")
                }
            }
            if step == 1 {
                // Saved and restored mid-run (model-wide numbering), the run continues the same.
                let state = optimizer.stateDict()
                XCTAssertEqual(Set(state.tensors.keys), ["0.momentum_buffer", "1.momentum_buffer", "2.momentum_buffer"])
                let fresh = ParameterGroups(parameters: params, groups: try members.enumerated().map { g, indices in
                    ParameterGroups.Group(optimizer: try SGD(parameters: indices.map { params[$0] }, momentum: momentum, weightDecay: decays[g], nesterov: true),
                                          learningRateScale: scales[g], indices: indices)
                }, learningRate: 1)
                try fresh.load(state: state)
                XCTAssertEqual(fresh.learningRate, base)
                XCTAssertEqual(fresh.groups.map(\.optimizer.learningRate), optimizer.groups.map(\.optimizer.learningRate))
                XCTAssertEqual(fresh.stateDict().tensors["2.momentum_buffer"]?.scalars, state.tensors["2.momentum_buffer"]?.scalars)
            }
        }
    }

    func testOneCycleLRFollowsPyTorchAtEveryStep() throws {
        let cases = try XCTUnwrap(golden["one_cycle"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let total = c["total_steps"] as! Int, base = c["max_lr"] as! Double
            let schedule = try OneCycleLR(totalSteps: total, pctStart: c["pct_start"] as! Double, divFactor: c["div_factor"] as! Double,
                                          finalDivFactor: c["final_div_factor"] as! Double,
                                          anneal: OneCycleLR.Anneal(rawValue: c["anneal_strategy"] as! String)!, threePhase: c["three_phase"] as! Bool)
            for (t, expected) in (c["lrs"] as! [Double]).enumerated() {
                XCTAssertEqual(schedule.learningRate(atEpoch: t, base: base), expected, accuracy: 1e-12 * max(1, expected), "\(c) step \(t)")
            }
        }
        XCTAssertThrowsError(try OneCycleLR(totalSteps: 4, pctStart: 0.1)) { error in
            XCTAssertTrue("\(error)".contains("pct_start"), "\(error)")
        }
    }

    func testOneCycleLRCyclesMomentumAndBeta1AsPyTorch() throws {
        let cases = try XCTUnwrap(golden["one_cycle_momentum"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let p = Tensor.zeros([1])
            p.requiresGrad = true
            let optimizer: any Optimizer = c["optimizer"] as! String == "sgd"
                ? try SGD(parameters: [p], learningRate: 0.5, momentum: 0.5) : try Adam(parameters: [p], learningRate: 0.5)
            let schedule = try OneCycleLR(totalSteps: c["total_steps"] as! Int, pctStart: c["pct_start"] as! Double,
                                          anneal: OneCycleLR.Anneal(rawValue: c["anneal_strategy"] as! String)!, threePhase: c["three_phase"] as! Bool,
                                          momentumRange: (c["base_momentum"] as! Double, c["max_momentum"] as! Double))
            let scheduler = ScheduledLR(optimizer: optimizer, schedule: schedule)
            let momenta = c["momenta"] as! [Double], lrs = c["lrs"] as! [Double]
            for t in 0..<momenta.count {
                if t > 0 {
                    p.grad = Tensor(shape: [1], scalars: [0.1])
                    optimizer.step()
                    scheduler.step()
                }
                XCTAssertEqual(Double(try XCTUnwrap(optimizer.cycledMomentum)), momenta[t], accuracy: 1e-7, "\(c["optimizer"]!) step \(t)")
                XCTAssertEqual(Double(optimizer.learningRate), lrs[t], accuracy: 1e-7 * max(1, lrs[t]), "\(c["optimizer"]!) step \(t)")
            }
        }
    }
}
