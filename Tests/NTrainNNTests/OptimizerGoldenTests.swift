import NTrainCore
import NTrainNN
import XCTest

/// Every optimizer against PyTorch: 5 steps on two parameters with the fixture's gradients.
final class OptimizerGoldenTests: XCTestCase {
    private func runCase(_ c: OptimizerCase) throws {
        let params = c.makeParameters()
        let opt = try c.makeOptimizer(params)
        for step in 0..<c.params.count {
            c.setGradients(params, step: step)
            opt.step()
            for (i, p) in params.enumerated() {
                let label = "\(c.name) step \(step + 1) param \(i)"
                assertClose(p.scalars, c.params[step][i], label)
                assertDisplacementClose(p.scalars, c.params[step][i], initial: c.initial[i], label)
            }
        }
    }

    /// A stricter check than the 1e-5 relative one on the values: the displacement from the
    /// initial value (the sum of the updates) must agree to 1e-5 relative, up to 4 float32 ulps of
    /// the parameter's magnitude (the rounding of the stored values themselves).
    private func assertDisplacementClose(_ actual: [Float], _ expected: [Double], initial: [Float], _ label: String,
                                         file: StaticString = #filePath, line: UInt = #line) {
        for j in 0..<actual.count {
            let da = Double(actual[j]) - Double(initial[j]), de = expected[j] - Double(initial[j])
            let ulp = Double(Float(Swift.max(Swift.abs(expected[j]), Double(Swift.abs(initial[j])))).ulp)
            if !(Swift.abs(da - de) <= 1e-5 * Swift.abs(de) + 4 * ulp) {
                XCTFail("\(label): element \(j) moved by \(da), PyTorch by \(de)", file: file, line: line)
                return
            }
        }
    }

    private func runCases(type: String) throws {
        let cases = OptimGolden.shared.optimizers.filter { $0.type == type }
        XCTAssertFalse(cases.isEmpty, "fixture has no \(type) cases")
        for c in cases { try runCase(c) }
    }

    func testSGD() throws { try runCases(type: "sgd") }
    func testAdam() throws { try runCases(type: "adam") }
    func testAdamW() throws { try runCases(type: "adamw") }
    func testNAdam() throws { try runCases(type: "nadam") }
    func testAdagrad() throws { try runCases(type: "adagrad") }
    func testRMSprop() throws { try runCases(type: "rmsprop") }

    /// The fixture's skipped gradients really are skipped: the parameter keeps its value.
    func testParametersWithoutGradientAreUntouched() throws {
        let params = [Tensor(shape: [3], scalars: [1, 2, 3], requiresGrad: true), Tensor(shape: [2], scalars: [4, 5], requiresGrad: true)]
        let optimizers: [any Optimizer] = [
            try SGD(parameters: params, learningRate: 0.1, momentum: 0.9), try Adam(parameters: params), try AdamW(parameters: params),
            try NAdam(parameters: params), try Adagrad(parameters: params), try RMSprop(parameters: params, momentum: 0.5, centered: true),
        ]
        for opt in optimizers {
            params[0].grad = Tensor(shape: [3], scalars: [0.5, -0.5, 1])
            params[1].grad = nil
            opt.step()
            XCTAssertEqual(params[1].scalars, [4, 5], "\(opt.name) changed a parameter without gradient")
            XCTAssertNotEqual(params[0].scalars, [1, 2, 3], "\(opt.name) did not update a parameter with gradient")
            params[0].assign(Tensor(shape: [3], scalars: [1, 2, 3]))
        }
    }

    /// Large parameters are updated in slices on several threads: every element exactly once, so
    /// three steps on 3 threads give the bits of three steps on 1 thread, for every optimizer.
    func testLargeParametersGiveTheSameBitsOnAnyThreadCount() throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let n = 40_001
        var rng = RandomGenerator(seed: 7)
        let start = (0..<n).map { _ in rng.normal() }
        let grads = (0..<3).map { _ in (0..<n).map { _ in rng.normal() } }
        let makers: [(String, ([Tensor]) throws -> any Optimizer)] = [
            ("sgd", { try SGD(parameters: $0, learningRate: 0.1) }),
            ("sgd momentum", { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
            ("adam amsgrad", { try Adam(parameters: $0, weightDecay: 0.01, amsgrad: true) }),
            ("adamw", { try AdamW(parameters: $0) }),
            ("nadam", { try NAdam(parameters: $0, weightDecay: 0.01) }),
            ("adagrad", { try Adagrad(parameters: $0, weightDecay: 0.01) }),
            ("rmsprop", { try RMSprop(parameters: $0, momentum: 0.5, centered: true) }),
        ]
        for (name, make) in makers {
            var results: [[UInt32]] = []
            for threads in [1, 3] {
                Parallel.threadCount = threads
                let p = Tensor(shape: [n], scalars: start, requiresGrad: true)
                let opt = try make([p])
                for g in grads {
                    p.grad = Tensor(shape: [n], scalars: g)
                    opt.step()
                }
                results.append(p.scalars.map(\.bitPattern))
            }
            let differing = zip(results[0], results[1]).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(name): elements that differ between 1 and 3 threads")
            XCTAssertNotEqual(results[0], start.map(\.bitPattern), "\(name) did not update")
        }
    }

    func testZeroGrad() throws {
        let p = Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
        let opt = try SGD(parameters: [p])
        p.grad = Tensor(shape: [2], scalars: [3, 4])
        opt.zeroGrad(setToNone: false)
        XCTAssertEqual(p.grad?.scalars, [0, 0])
        opt.zeroGrad()
        XCTAssertNil(p.grad)
    }

    func testDefaultsArePyTorchs() throws {
        let p = [Tensor(shape: [1], scalars: [0])]
        let sgd = try SGD(parameters: p)
        XCTAssertEqual([sgd.learningRate, sgd.momentum, sgd.dampening, sgd.weightDecay], [1e-3, 0, 0, 0])
        let adam = try Adam(parameters: p)
        XCTAssertEqual([adam.learningRate, adam.beta1, adam.beta2, adam.eps, adam.weightDecay], [1e-3, 0.9, 0.999, 1e-8, 0])
        XCTAssertEqual(try AdamW(parameters: p).weightDecay, 1e-2)
        let nadam = try NAdam(parameters: p)
        XCTAssertEqual([nadam.learningRate, nadam.momentumDecay], [2e-3, 4e-3])
        let adagrad = try Adagrad(parameters: p)
        XCTAssertEqual([adagrad.learningRate, adagrad.lrDecay, adagrad.initialAccumulatorValue, adagrad.eps], [1e-2, 0, 0, 1e-10])
        let rms = try RMSprop(parameters: p)
        XCTAssertEqual([rms.learningRate, rms.alpha, rms.eps, rms.momentum], [1e-2, 0.99, 1e-8, 0])
        XCTAssertFalse(rms.centered)
    }

    func testInvalidHyperparametersThrow() {
        let p = [Tensor(shape: [1], scalars: [0])]
        XCTAssertThrowsError(try SGD(parameters: p, learningRate: -1)) { error in
            XCTAssertTrue("\(error)".contains("lr"), "\(error)")
        }
        XCTAssertThrowsError(try SGD(parameters: p, nesterov: true)) { error in
            XCTAssertTrue("\(error)".contains("Nesterov"), "\(error)")
        }
        XCTAssertThrowsError(try SGD(parameters: p, momentum: 0.9, dampening: 0.1, nesterov: true))
        XCTAssertThrowsError(try Adam(parameters: p, betas: (1.0, 0.999)))
        XCTAssertThrowsError(try NAdam(parameters: p, momentumDecay: -1))
        XCTAssertThrowsError(try RMSprop(parameters: p, alpha: -0.5))
        XCTAssertThrowsError(try Adagrad(parameters: p, lrDecay: .nan))
        XCTAssertThrowsError(try Adam(parameters: [Tensor(shape: [1], int32s: [1])])) { error in
            XCTAssertEqual(error as? OptimizerError, .notFloatParameter(optimizer: "adam", index: 0, dtype: .int32))
        }
    }
}
