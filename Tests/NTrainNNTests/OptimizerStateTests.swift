import Foundation
import NTrainCore
import NTrainNN
import XCTest

/// Saving and restoring optimizer state: a resumed run continues bit-identically, and a state that
/// does not fit is refused with a typed error before anything changes.
final class OptimizerStateTests: XCTestCase {
    /// Round-trips through the checkpoint split: JSON metadata plus copied tensors.
    private func checkpointRoundTrip(_ state: OptimizerState) throws -> OptimizerState {
        let json = try JSONEncoder().encode(state.metadata)
        let metadata = try JSONDecoder().decode(OptimizerState.Metadata.self, from: json)
        return try OptimizerState(metadata: metadata, tensors: state.tensors.mapValues { $0.copy() })
    }

    /// For every fixture case: 3 steps, save, load into a fresh optimizer on copied parameters,
    /// 2 more steps == 5 steps straight, bit for bit.
    func testResumeIsBitIdentical() throws {
        for c in OptimGolden.shared.optimizers {
            let straight = c.makeParameters()
            let opt = try c.makeOptimizer(straight)
            var saved: OptimizerState?
            var resumedParams: [Tensor] = []
            for step in 0..<5 {
                c.setGradients(straight, step: step)
                opt.step()
                if step == 2 {
                    saved = try checkpointRoundTrip(opt.stateDict())
                    resumedParams = straight.map { $0.copy() }
                }
            }
            let fresh = try c.makeOptimizer(resumedParams)
            fresh.learningRate = 12345 // must be restored from the state
            try fresh.load(state: XCTUnwrap(saved))
            XCTAssertEqual(fresh.learningRate, c.options.lr, c.name)
            for step in 3..<5 {
                c.setGradients(resumedParams, step: step)
                fresh.step()
            }
            for (a, b) in zip(resumedParams, straight) {
                XCTAssertEqual(a.scalars, b.scalars, "\(c.name): resumed run differs from the straight run")
            }
        }
    }

    func testStateNamesFollowPyTorch() throws {
        let params = [Tensor(shape: [2], scalars: [1, 2]), Tensor(shape: [3], scalars: [1, 2, 3])]
        params[1].grad = Tensor(shape: [3], scalars: [1, 1, 1])
        let adam = try Adam(parameters: params, amsgrad: true)
        XCTAssertEqual(adam.stateDict().tensors.count, 0)
        adam.step()
        let s = adam.stateDict()
        XCTAssertEqual(s.optimizer, "adam")
        XCTAssertEqual(s.tensors.keys.sorted(), ["1.exp_avg", "1.exp_avg_sq", "1.max_exp_avg_sq"])
        XCTAssertEqual(s.scalars["1.step"], 1)
        XCTAssertEqual(s.scalars["lr"], Double(Float(1e-3)))

        let sgd = try SGD(parameters: params, learningRate: 0.1, momentum: 0.9)
        sgd.step()
        XCTAssertEqual(sgd.stateDict().tensors.keys.sorted(), ["1.momentum_buffer"])
        let nadam = try NAdam(parameters: params)
        nadam.step()
        XCTAssertEqual(nadam.stateDict().scalars.keys.sorted(), ["1.mu_product", "1.step", "lr"])
        let rms = try RMSprop(parameters: params, momentum: 0.9, centered: true)
        rms.step()
        XCTAssertEqual(rms.stateDict().tensors.keys.sorted(), ["1.grad_avg", "1.momentum_buffer", "1.square_avg"])
        // Adagrad's accumulators exist from construction, as in PyTorch.
        XCTAssertEqual(try Adagrad(parameters: params).stateDict().tensors.keys.sorted(), ["0.sum", "1.sum"])
    }

    func testSavedStateIsACopy() throws {
        let p = Tensor(shape: [2], scalars: [1, 2])
        p.grad = Tensor(shape: [2], scalars: [1, -1])
        let sgd = try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9)
        sgd.step()
        let state = sgd.stateDict()
        let before = state.tensors["0.momentum_buffer"]!.scalars
        sgd.step()
        XCTAssertEqual(state.tensors["0.momentum_buffer"]!.scalars, before)
    }

    private func steppedAdam(shapes: [Shape]) throws -> Adam {
        let params = shapes.map { Tensor.full($0, 1) }
        for p in params { p.grad = Tensor.full(p.shape, 0.5) }
        let adam = try Adam(parameters: params)
        adam.step()
        return adam
    }

    func testLoadRejectsMismatchesWithTypedErrors() throws {
        let source = try steppedAdam(shapes: [[2, 3], [4]])
        let state = source.stateDict()

        // Different shapes (another model).
        let other = try steppedAdam(shapes: [[2, 3], [5]])
        XCTAssertThrowsError(try other.load(state: state)) { error in
            XCTAssertEqual(error as? OptimizerStateError, .shapeMismatch(entry: "1.exp_avg", expected: [5], found: [4]))
            XCTAssertTrue("\(error)".contains("'1.exp_avg'"), "\(error)")
        }
        // Fewer parameters.
        let smaller = try steppedAdam(shapes: [[2, 3]])
        XCTAssertThrowsError(try smaller.load(state: state)) { error in
            guard case .parameterOutOfRange(_, 1)? = error as? OptimizerStateError else { return XCTFail("\(error)") }
        }
        // Another optimizer kind.
        let sgd = try SGD(parameters: [Tensor.full([2, 3], 1), Tensor.full([4], 1)], momentum: 0.9)
        XCTAssertThrowsError(try sgd.load(state: state)) { error in
            XCTAssertEqual(error as? OptimizerStateError, .wrongOptimizer(expected: "sgd", found: "adam"))
        }
        // Different settings: amsgrad needs an entry the state lacks.
        let ams = try Adam(parameters: [Tensor.full([2, 3], 1), Tensor.full([4], 1)], amsgrad: true)
        XCTAssertThrowsError(try ams.load(state: state)) { error in
            XCTAssertEqual(error as? OptimizerStateError, .missingEntry("0.max_exp_avg_sq", optimizer: "adam"))
        }
        // Unknown and malformed entries, bad scalars, wrong dtype, missing lr.
        let target = try steppedAdam(shapes: [[2, 3], [4]])
        var s = state
        s.tensors["0.momentum_buffer"] = Tensor.zeros([2, 3])
        XCTAssertThrowsError(try target.load(state: s)) { XCTAssertEqual($0 as? OptimizerStateError, .unknownEntry("0.momentum_buffer", optimizer: "adam")) }
        s = state
        s.tensors["x.exp_avg"] = Tensor.zeros([2, 3])
        XCTAssertThrowsError(try target.load(state: s)) { XCTAssertEqual($0 as? OptimizerStateError, .unknownEntry("x.exp_avg", optimizer: "adam")) }
        s = state
        s.scalars["1.step"] = -3
        XCTAssertThrowsError(try target.load(state: s)) { XCTAssertEqual($0 as? OptimizerStateError, .invalidScalar(entry: "1.step", value: -3)) }
        s = state
        s.tensors["1.exp_avg"] = Tensor(shape: [4], int32s: [0, 0, 0, 0])
        XCTAssertThrowsError(try target.load(state: s)) { XCTAssertEqual($0 as? OptimizerStateError, .wrongDType(entry: "1.exp_avg", found: .int32)) }
        s = state
        s.scalars["lr"] = nil
        XCTAssertThrowsError(try target.load(state: s)) { XCTAssertEqual($0 as? OptimizerStateError, .missingEntry("lr", optimizer: "adam")) }
        s = state
        s.scalars["0.step"] = nil
        XCTAssertThrowsError(try target.load(state: s)) { XCTAssertEqual($0 as? OptimizerStateError, .missingEntry("0.step", optimizer: "adam")) }
    }

    func testFailedLoadChangesNothing() throws {
        let target = try steppedAdam(shapes: [[2, 3], [4]])
        target.learningRate = 0.5
        let before = target.stateDict()
        var bad = try steppedAdam(shapes: [[2, 3], [4]]).stateDict()
        bad.scalars["lr"] = 0.01
        bad.tensors["1.exp_avg_sq"] = Tensor.zeros([7])
        XCTAssertThrowsError(try target.load(state: bad))
        let after = target.stateDict()
        XCTAssertEqual(target.learningRate, 0.5)
        XCTAssertEqual(after.scalars, before.scalars)
        XCTAssertEqual(after.tensors.keys.sorted(), before.tensors.keys.sorted())
        for (k, t) in before.tensors { XCTAssertEqual(after.tensors[k]?.scalars, t.scalars, k) }
    }

    func testMetadataMustListExactlyTheTensors() throws {
        let state = try steppedAdam(shapes: [[3]]).stateDict()
        var tensors = state.tensors
        tensors["0.exp_avg"] = nil
        XCTAssertThrowsError(try OptimizerState(metadata: state.metadata, tensors: tensors)) {
            XCTAssertEqual($0 as? OptimizerStateError, .missingEntry("0.exp_avg", optimizer: "adam"))
        }
        tensors = state.tensors
        tensors["0.extra"] = Tensor.zeros([3])
        XCTAssertThrowsError(try OptimizerState(metadata: state.metadata, tensors: tensors)) {
            XCTAssertEqual($0 as? OptimizerStateError, .unknownEntry("0.extra", optimizer: "adam"))
        }
    }
}
