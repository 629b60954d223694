import Foundation
import XCTest
import NTrainCore
@testable import NTrainEngine

/// Random layer stacks, shapes, class counts and hostile numbers, each decoded, built and (when
/// accepted) trained for one epoch on tiny data. Every case must end in a typed error or a
/// finished run: the engine's unchecked kernels (-Ounchecked) turn a missing check into memory
/// corruption, which this harness found (issue 18). Bounded: 500 fixed-seed cases (about a second).
final class ConfigFuzzTests: XCTestCase {
    private struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func pick<T>(_ options: [T]) -> T { options[Int(next() % UInt64(options.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    }

    private func layer(_ g: inout Generator) -> String {
        let pair = { (g: inout Generator, values: [Int]) -> String in
            g.chance(70) ? "\(g.pick(values))" : "[\(g.pick(values)), \(g.pick(values))]"
        }
        switch g.next() % 13 {
        case 0: return #"{"linear": {"out": \#(g.pick([1, 2, 3, 10, 11, 0, -1, 70000]))}}"#
        case 1:
            return #"{"conv2d": {"out": \#(g.pick([1, 2, 4, 6])), "kernel": \#(pair(&g, [1, 2, 3, 5, 9])), "stride": \#(pair(&g, [1, 2, 3])), "#
                + #""padding": \#(pair(&g, [0, 1, 4])), "dilation": \#(g.pick([1, 2])), "groups": \#(g.pick([1, 1, 2, 3]))}}"#
        case 2: return #"{"max_pool2d": {"kernel": \#(pair(&g, [1, 2, 3, 7])), "padding": \#(g.pick([0, 1, 2]))}}"#
        case 3: return #"{"avg_pool2d": {"kernel": \#(pair(&g, [1, 2, 3])), "stride": \#(g.pick([1, 2, 5])), "padding": \#(g.pick([0, 1]))}}"#
        case 4: return #"{"batch_norm1d": {}}"#
        case 5: return #"{"batch_norm2d": {"affine": \#(g.pick(["true", "false"]))}}"#
        case 6, 7: return #"{"flatten": {}}"#
        case 8: return #"{"dropout": {"p": \#(g.pick(["0", "0.5", "0.99", "1"]))}}"#
        case 9: return #"{"softmax": {"axis": \#(g.pick([-1, 0, 1, 3, 5]))}}"#
        case 10: return #"{"log_softmax": {"axis": \#(g.pick([-2, -1, 1, 4]))}}"#
        case 11: return #"{"leaky_relu": {"slope": \#(g.pick(["0.1", "-3", "1e30"]))}}"#
        default: return g.pick([#"{"relu": {}}"#, #"{"gelu": {}}"#, #"{"tanh": {}}"#, #"{"sigmoid": {}}"#])
        }
    }

    private func config(_ g: inout Generator) -> String {
        let shape = g.pick(["[1, 4, 4]", "[3, 5, 5]", "[2, 1, 1]", "[1, 8, 3]"])
        let classes = g.pick([1, 2, 10])
        var layers = (0..<Int(1 + g.next() % 5)).map { _ in layer(&g) }
        if g.chance(75) { layers += [#"{"flatten": {}}"#, #"{"linear": {"out": \#(classes)}}"#] }
        let model = g.chance(85) ? #"{"layers": [\#(layers.joined(separator: ", "))]}"#
            : #"{"arch": "\#(g.pick(["mlp", "linear", "lenet", "conv_bn"]))", "hidden": [\#(g.pick([1, 8, 100000, 16777216]))]}"#
        let loss = g.pick(["cross_entropy", "nll", "mse"])
        let batch = g.pick([1, 3, 8, 8, 1 << 20, 1 << 21])
        return #"""
            {"name": "fuzz", "seed": \#(g.next() % 5),
             "data": {"dataset": "random", "count": \#(g.pick([1, 5, 16])), "test_count": \#(g.pick([1, 4])), "shape": \#(shape),
                      "classes": \#(classes), "batch_size": \#(batch), "eval_batch_size": \#(g.pick([1, 7, 1000]))},
             "model": \#(model), "loss": "\#(loss)", "optimizer": {"type": "\#(g.pick(["sgd", "adam", "rmsprop"]))", "lr": 0.01},
             "train": {"epochs": 1, "memory_limit": 1}}
            """#
    }

    func testRandomConfigsEndInATypedErrorOrAFinishedRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-config-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var g = Generator(state: 18)
        var outcomes: [String: Int] = [:]
        for index in 0..<500 {
            let text = config(&g)
            do {
                let config = try ExperimentConfig.decode(Data(text.utf8), file: "fuzz.json")
                let trainer = try Trainer(config: config, options: TrainOptions(out: folder.appendingPathComponent("\(index)").path))
                let summary = try trainer.run()
                XCTAssertEqual(summary.ending, .completed, text)
                outcomes["trained", default: 0] += 1
            } catch is ConfigError {
                outcomes["config error", default: 0] += 1
            } catch let error as EngineError {
                XCTAssertFalse(error.description.isEmpty)
                outcomes[error.exitCode == 2 ? "model/data error" : "runtime error", default: 0] += 1
            } catch {
                XCTFail("case \(index): untyped error \(error) for \(text)")
            }
        }
        // The harness must reach training often enough to mean something.
        XCTAssertGreaterThan(outcomes["trained", default: 0], 50, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["model/data error", default: 0], 20, "\(outcomes)")
        print("config fuzz outcomes: \(outcomes)")
    }
}
