import Foundation
import NTrainCore
import NTrainNN
import XCTest

/// Learning-rate schedulers against PyTorch's lr sequences, and exact resumption.
final class SchedulerGoldenTests: XCTestCase {
    private func makeOptimizer(_ lr: Double) throws -> SGD {
        try SGD(parameters: [Tensor(shape: [1], scalars: [0])], learningRate: Float(lr))
    }

    /// Steps `scheduler` once, with the case's metric for that step when it has metrics.
    private func step(_ scheduler: any LRScheduler, _ c: SchedulerCase, _ i: Int) {
        if let metrics = c.metrics { scheduler.step(metric: metrics[i]) } else { scheduler.step() }
    }

    func testSchedulersMatchPyTorch() throws {
        let cases = OptimGolden.shared.schedulers
        XCTAssertGreaterThanOrEqual(cases.count, 15)
        for c in cases {
            let opt = try makeOptimizer(c.baseLr)
            let scheduler = try c.spec.makeScheduler(opt)
            for (i, expected) in c.lrs.enumerated() {
                if i > 0 { step(scheduler, c, i - 1) }
                assertClose(scheduler.learningRate, expected, "\(c.name) epoch \(i)", rel: 1e-9, abs: 1e-12)
                XCTAssertEqual(opt.learningRate, Float(scheduler.learningRate), "\(c.name) epoch \(i): optimizer lr")
                XCTAssertEqual(scheduler.lastEpoch, i, c.name)
            }
        }
    }

    /// Save after 5 steps (through JSON), restore into a fresh optimizer and scheduler, continue:
    /// the same learning rates as the straight run, exactly.
    func testResumeContinuesTheSchedule() throws {
        for c in OptimGolden.shared.schedulers {
            let opt = try makeOptimizer(c.baseLr)
            let scheduler = try c.spec.makeScheduler(opt)
            var straight: [Double] = []
            var saved: Data?
            for i in 0..<(c.lrs.count - 1) {
                step(scheduler, c, i)
                straight.append(scheduler.learningRate)
                if i == 4 { saved = try JSONEncoder().encode(scheduler.stateDict()) }
            }
            // The fresh optimizer starts from another lr: the state must carry the base.
            let freshOpt = try makeOptimizer(c.baseLr * 3)
            let fresh = try c.spec.makeScheduler(freshOpt)
            try fresh.load(state: JSONDecoder().decode(SchedulerState.self, from: XCTUnwrap(saved)))
            XCTAssertEqual(fresh.lastEpoch, 5, c.name)
            XCTAssertEqual(fresh.learningRate, straight[4], c.name)
            XCTAssertEqual(freshOpt.learningRate, Float(straight[4]), c.name)
            for i in 5..<(c.lrs.count - 1) {
                step(fresh, c, i)
                XCTAssertEqual(fresh.learningRate, straight[i], "\(c.name) step \(i + 1) after resume")
            }
        }
    }

    func testPlateauStateWithInfiniteBestSurvivesJSON() throws {
        let plateau = try ReduceLROnPlateau(optimizer: makeOptimizer(0.1), mode: .max)
        let json = try JSONEncoder().encode(plateau.stateDict())
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"-inf\""))
        let decoded = try JSONDecoder().decode(SchedulerState.self, from: json)
        XCTAssertEqual(decoded.plateau?.best, -.infinity)
        XCTAssertEqual(decoded, plateau.stateDict())
    }

    func testPlateauDefaultsHalveTheRate() throws {
        let plateau = try ReduceLROnPlateau(optimizer: makeOptimizer(0.1))
        XCTAssertEqual(plateau.factor, 0.5)
        XCTAssertEqual(plateau.patience, 10)
        XCTAssertEqual(plateau.threshold, 1e-4)
        XCTAssertTrue(plateau.needsMetric)
        for _ in 0..<12 { plateau.step(metric: 1) }
        XCTAssertEqual(plateau.learningRate, Double(Float(0.1)) * 0.5)
    }

    func testLoadRefusesOtherSchedulerKinds() throws {
        let step = ScheduledLR(optimizer: try makeOptimizer(0.1), schedule: try StepLR(stepSize: 2))
        let cosine = ScheduledLR(optimizer: try makeOptimizer(0.1), schedule: try CosineAnnealingLR(tMax: 10))
        XCTAssertThrowsError(try cosine.load(state: step.stateDict())) { error in
            XCTAssertEqual(error as? SchedulerError, .stateMismatch(expected: "cosine", found: "step"))
        }
        let plateau = try ReduceLROnPlateau(optimizer: makeOptimizer(0.1))
        XCTAssertThrowsError(try plateau.load(state: step.stateDict()))
        var bad = step.stateDict()
        bad.lastEpoch = -2
        XCTAssertThrowsError(try step.load(state: bad)) { error in
            XCTAssertEqual(error as? SchedulerError, .invalidState(field: "lastEpoch", value: "-2"))
        }
    }

    /// A longer cosine period on resume continues from the saved epoch (raising --epochs).
    func testResumeWithChangedSettingsContinuesFromTheCounter() throws {
        let a = ScheduledLR(optimizer: try makeOptimizer(0.1), schedule: try CosineAnnealingLR(tMax: 10))
        for _ in 0..<4 { a.step() }
        let b = ScheduledLR(optimizer: try makeOptimizer(0.1), schedule: try CosineAnnealingLR(tMax: 20))
        try b.load(state: a.stateDict())
        XCTAssertEqual(b.lastEpoch, 4)
        XCTAssertEqual(b.learningRate, try CosineAnnealingLR(tMax: 20).learningRate(atEpoch: 4, base: Double(Float(0.1))))
    }

    func testInvalidSettingsThrow() {
        XCTAssertThrowsError(try StepLR(stepSize: 0)) { error in
            XCTAssertTrue("\(error)".contains("step_size"), "\(error)")
        }
        XCTAssertThrowsError(try ExponentialLR(gamma: -1))
        XCTAssertThrowsError(try CosineAnnealingLR(tMax: 0))
        XCTAssertThrowsError(try LinearLR(startFactor: 0))
        XCTAssertThrowsError(try ConstantLR(factor: 2))
        XCTAssertThrowsError(try InverseTimeLR(decaySteps: 0))
        XCTAssertThrowsError(try PiecewiseLR(values: []))
        XCTAssertThrowsError(try MultiStepLR(milestones: [-1]))
        XCTAssertThrowsError(try ChainedScheduler([]))
        XCTAssertThrowsError(try SequentialLR([try StepLR(stepSize: 1), try StepLR(stepSize: 2)], milestones: [])) { error in
            XCTAssertTrue("\(error)".contains("1 milestone"), "\(error)")
        }
        XCTAssertThrowsError(try SequentialLR([try StepLR(stepSize: 1), try StepLR(stepSize: 2), try StepLR(stepSize: 3)], milestones: [4, 4]))
        XCTAssertThrowsError(try ReduceLROnPlateau(optimizer: SGD(parameters: []), factor: 1))
        XCTAssertThrowsError(try ReduceLROnPlateau(optimizer: SGD(parameters: []), patience: -1))
    }
}
