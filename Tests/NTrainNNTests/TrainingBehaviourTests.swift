import XCTest
import NTrainCore
@testable import NTrainNN

/// End-to-end behaviour of the engine from Swift code: the tutorials' small training loops.
final class TrainingBehaviourTests: XCTestCase {
    /// MindSpore's linear regression tutorial: y = 2x + 3 + noise, Dense(1, 1) with Normal(0.02),
    /// MSE, Momentum(0.005, 0.9), batch 16.
    func testLinearRegressionRecoversSlopeAndIntercept() throws {
        var g = RandomGenerator(seed: 5)
        let n = 1600
        let xs = (0..<n).map { _ in g.uniform(-10, 10) }
        let ys = xs.map { 2 * $0 + 3 + g.normal() }
        let model = Linear(1, 1, initializer: .normal(std: 0.02), generator: &g)
        let opt = try SGD(parameters: model.parameters, learningRate: 0.005, momentum: 0.9)
        for _ in 0..<10 {
            for start in stride(from: 0, to: n, by: 16) {
                let x = Tensor(shape: [16, 1], scalars: Array(xs[start..<start + 16]))
                let y = Tensor(shape: [16, 1], scalars: Array(ys[start..<start + 16]))
                let loss = mseLoss(model(x), y)
                opt.zeroGrad()
                loss.backward()
                opt.step()
            }
        }
        XCTAssertEqual(model.weight.item(), 2, accuracy: 0.05)
        XCTAssertEqual(model.bias!.item(), 3, accuracy: 0.2)
    }

    /// LeNet on one fixed batch of random data reaches ~zero loss (it can memorise it).
    func testLeNetOverfitsAFixedBatch() throws {
        var g = RandomGenerator(seed: 9)
        let model = try BuiltinModel.lenet.make(input: [1, 32, 32], outputs: 10, seed: 3)
        let x = Tensor(shape: [16, 1, 32, 32], scalars: (0..<16 * 1024).map { _ in g.uniform(-1, 1) })
        let y = Tensor(shape: [16], int32s: (0..<16).map { Int32($0 % 10) })
        let opt = try Adam(parameters: model.parameters, learningRate: 2e-3)
        var last: Float = .infinity
        for _ in 0..<150 {
            let loss = crossEntropy(model(x), y)
            opt.zeroGrad()
            loss.backward()
            opt.step()
            last = loss.item()
        }
        XCTAssertLessThan(last, 0.01)
    }

    /// Same seed and thread count: 100 LeNet training steps give bit-identical weights.
    func testTrainingIsBitIdenticalForTheSameSeed() throws {
        func train() throws -> [Float] {
            var g = RandomGenerator(seed: 21)
            let model = try BuiltinModel.lenet.make(input: [1, 32, 32], outputs: 10, seed: 4)
            let opt = try SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9)
            for _ in 0..<100 {
                let x = Tensor(shape: [8, 1, 32, 32], scalars: (0..<8 * 1024).map { _ in g.uniform(0, 1) })
                let y = Tensor(shape: [8], int32s: (0..<8).map { _ in Int32(g.int(below: 10)) })
                let loss = crossEntropy(model(x), y)
                opt.zeroGrad()
                loss.backward()
                opt.step()
            }
            return model.parameters.flatMap(\.scalars)
        }
        let a = try train(), b = try train()
        XCTAssertEqual(a.count, 61_706)
        XCTAssertTrue(a == b, "weights differ between two runs with the same seed")
    }
}
