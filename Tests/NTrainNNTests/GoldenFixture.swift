import Foundation
import NTrainCore
import NTrainNN
import XCTest

/// The PyTorch golden values written by scripts/golden_optim.py.
struct OptimGolden: Decodable {
    let torchVersion: String
    let optimizers: [OptimizerCase]
    let schedulers: [SchedulerCase]
    let clipping: [ClippingCase]

    static let shared: OptimGolden = {
        guard let url = Bundle.module.url(forResource: "optim_golden", withExtension: "json", subdirectory: "Fixtures") else {
            fatalError("Fixtures/optim_golden.json missing from the test bundle; run scripts/golden_optim.py")
        }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(OptimGolden.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot decode optim_golden.json: \(error)")
        }
    }()
}

struct OptimizerOptions: Decodable {
    var lr: Float
    var momentum: Float?
    var dampening: Float?
    var weightDecay: Float?
    var nesterov: Bool?
    var beta1: Float?
    var beta2: Float?
    var eps: Float?
    var amsgrad: Bool?
    var momentumDecay: Float?
    var decoupledWeightDecay: Bool?
    var lrDecay: Float?
    var initialAccumulatorValue: Float?
    var alpha: Float?
    var centered: Bool?
}

struct OptimizerCase: Decodable {
    let name: String
    let type: String
    let options: OptimizerOptions
    let shapes: [[Int]]
    let initial: [[Float]]
    /// grads[step][param], nil where PyTorch had `grad = None`.
    let grads: [[[Float]?]]
    /// params[step][param] after that step.
    let params: [[[Double]]]

    private enum CodingKeys: String, CodingKey { case name, type, options, shapes, initial = "init", grads, params }

    /// Fresh parameters holding the initial values.
    func makeParameters() -> [Tensor] {
        zip(shapes, initial).map { Tensor(shape: Shape($0), scalars: $1, requiresGrad: true) }
    }

    /// Sets each parameter's gradient for `step` (0-based).
    func setGradients(_ params: [Tensor], step: Int) {
        for (i, p) in params.enumerated() {
            p.grad = grads[step][i].map { Tensor(shape: p.shape, scalars: $0) }
        }
    }

    func makeOptimizer(_ params: [Tensor]) throws -> any Optimizer {
        let o = options
        let betas = (o.beta1 ?? 0.9, o.beta2 ?? 0.999)
        switch type {
        case "sgd":
            return try SGD(parameters: params, learningRate: o.lr, momentum: o.momentum ?? 0, dampening: o.dampening ?? 0,
                           weightDecay: o.weightDecay ?? 0, nesterov: o.nesterov ?? false)
        case "adam":
            return try Adam(parameters: params, learningRate: o.lr, betas: betas, eps: o.eps ?? 1e-8,
                            weightDecay: o.weightDecay ?? 0, amsgrad: o.amsgrad ?? false)
        case "adamw":
            return try AdamW(parameters: params, learningRate: o.lr, betas: betas, eps: o.eps ?? 1e-8,
                             weightDecay: o.weightDecay ?? 1e-2, amsgrad: o.amsgrad ?? false)
        case "nadam":
            return try NAdam(parameters: params, learningRate: o.lr, betas: betas, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0,
                             momentumDecay: o.momentumDecay ?? 4e-3, decoupledWeightDecay: o.decoupledWeightDecay ?? false)
        case "adagrad":
            return try Adagrad(parameters: params, learningRate: o.lr, lrDecay: o.lrDecay ?? 0, weightDecay: o.weightDecay ?? 0,
                               initialAccumulatorValue: o.initialAccumulatorValue ?? 0, eps: o.eps ?? 1e-10)
        case "rmsprop":
            return try RMSprop(parameters: params, learningRate: o.lr, alpha: o.alpha ?? 0.99, eps: o.eps ?? 1e-8,
                               weightDecay: o.weightDecay ?? 0, momentum: o.momentum ?? 0, centered: o.centered ?? false)
        default:
            throw GoldenFixtureError.unknownType("optimizer", type)
        }
    }
}

/// A schedule spec as in the fixture (`type` plus its settings; composites nest).
final class ScheduleSpec: Decodable {
    let type: String
    let factor: Double?
    let totalIters: Int?
    let stepSize: Int?
    let gamma: Double?
    let milestones: [Int]?
    let tMax: Int?
    let etaMin: Double?
    let startFactor: Double?
    let endFactor: Double?
    let decaySteps: Double?
    let power: Double?
    let values: [Double]?
    let schedulers: [ScheduleSpec]?
    // plateau
    let mode: String?
    let patience: Int?
    let threshold: Double?
    let thresholdMode: String?
    let cooldown: Int?
    let minLr: Double?
    let eps: Double?

    func makeSchedule() throws -> any LRSchedule {
        switch type {
        case "constant": return try ConstantLR(factor: factor!, totalIters: totalIters!)
        case "step": return try StepLR(stepSize: stepSize!, gamma: gamma!)
        case "multistep": return try MultiStepLR(milestones: milestones!, gamma: gamma!)
        case "exponential": return try ExponentialLR(gamma: gamma!)
        case "cosine": return try CosineAnnealingLR(tMax: tMax!, etaMin: etaMin!)
        case "linear": return try LinearLR(startFactor: startFactor!, endFactor: endFactor!, totalIters: totalIters!)
        case "inverse_time": return try InverseTimeLR(decaySteps: decaySteps!, power: power!)
        case "piecewise": return try PiecewiseLR(values: values!)
        case "chain": return try ChainedScheduler(schedulers!.map { try $0.makeSchedule() })
        case "sequential": return try SequentialLR(schedulers!.map { try $0.makeSchedule() }, milestones: milestones!)
        default: throw GoldenFixtureError.unknownType("schedule", type)
        }
    }

    /// A scheduler driving `optimizer` (a plateau scheduler or a ScheduledLR).
    func makeScheduler(_ optimizer: any Optimizer) throws -> any LRScheduler {
        if type == "plateau" {
            return try ReduceLROnPlateau(optimizer: optimizer, mode: ReduceLROnPlateau.Mode(rawValue: mode!)!, factor: factor!,
                                         patience: patience!, threshold: threshold!,
                                         thresholdMode: ReduceLROnPlateau.ThresholdMode(rawValue: thresholdMode!)!,
                                         cooldown: cooldown!, minLR: minLr!, eps: eps!)
        }
        return ScheduledLR(optimizer: optimizer, schedule: try makeSchedule())
    }
}

struct SchedulerCase: Decodable {
    let name: String
    let baseLr: Double
    let spec: ScheduleSpec
    let metrics: [Double]?
    /// lr at epoch 0 (after construction) and after each step.
    let lrs: [Double]
}

struct ClippingCase: Decodable {
    let kind: String
    let maxNorm: Float?
    /// A number, or the string "inf".
    let normType: NormType?
    let totalNorm: Double?
    let clipValue: Float?
    let grads: [[Float]]
    let clipped: [[Double]]

    struct NormType: Decodable {
        let value: Float
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Float.self) { value = v } else {
                let s = try c.decode(String.self)
                guard s == "inf" else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "norm_type \(s)") }
                value = .infinity
            }
        }
    }
}

/// |actual − expected| ≤ 1e-6 + 1e-5·|expected|, element by element.
func assertClose(_ actual: [Float], _ expected: [Double], _ message: @autoclosure () -> String,
                 rel: Double = 1e-5, abs absTol: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message()): count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let diff = Swift.abs(Double(a) - e)
        if !(diff <= absTol + rel * Swift.abs(e)) {
            XCTFail("\(message()): element \(i) is \(a), PyTorch has \(e) (diff \(diff))", file: file, line: line)
            return
        }
    }
}

func assertClose(_ actual: Double, _ expected: Double, _ message: @autoclosure () -> String,
                 rel: Double = 1e-5, abs absTol: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
    let diff = Swift.abs(actual - expected)
    XCTAssertTrue(diff <= absTol + rel * Swift.abs(expected), "\(message()): \(actual) vs PyTorch \(expected)", file: file, line: line)
}

/// A fixture case this loader cannot build fails its test: a skip would hide a golden check that
/// never ran (a new type in scripts/golden_optim.py without its Swift counterpart).
enum GoldenFixtureError: Error, CustomStringConvertible {
    case unknownType(String, String)

    var description: String {
        switch self {
        case let .unknownType(kind, type): return "unknown \(kind) type \(type) in the fixture: add it to GoldenFixture.swift"
        }
    }
}
