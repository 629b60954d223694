import Foundation
import NTrainCore
import NTrainNN
import XCTest
@testable import NTrainEngine

/// `model.layers` blocks (residual, branches, repeat) from JSON: decoding, errors that name the
/// config path and both shapes, the built modules, and the checks that walk through blocks.
final class LayerBlockConfigTests: XCTestCase {
    private func config(_ layers: String, extra: String = "") throws -> ExperimentConfig {
        let text = #"{"data": {"dataset": "cifar10"}, "model": {"layers": "# + layers + "}" + extra + "}"
        return try ExperimentConfig.decode(Data(text.utf8), file: "test.json")
    }

    private func configError(_ layers: String, line: UInt = #line) -> String {
        do {
            _ = try config(layers)
            XCTFail("expected a ConfigError", line: line)
        } catch {
            return "\(error)"
        }
        return ""
    }

    private func modelError(_ layers: String, input: Shape = [3, 8, 8], line: UInt = #line) -> String {
        do {
            _ = try ModelFactory.make(try config(layers).model, input: input, outputs: 10, seed: 1)
            XCTFail("expected a model error", line: line)
        } catch {
            return "\(error)"
        }
        return ""
    }

    static let residual = #"""
        [{"conv2d": {"out": 4, "kernel": 3, "padding": 1}},
         {"residual": {"body": [{"conv2d": {"out": 4, "kernel": 3, "padding": 1}}, {"batch_norm2d": {}}, {"relu": {}}],
                       "activation": "relu"}},
         {"residual": {"body": [{"conv2d": {"out": 8, "kernel": 3, "padding": 1, "stride": 2}}, {"batch_norm2d": {}}],
                       "shortcut": [{"conv2d": {"out": 8, "kernel": 1, "stride": 2, "bias": false}}, {"batch_norm2d": {"affine": false}}]}},
         {"repeat": {"times": 2, "layers": [{"branches": {"merge": "concat", "paths": [[{"conv2d": {"out": 2, "kernel": 1}}], []]}},
                                              {"conv2d": {"out": 8, "kernel": 1}}]}},
         {"global_avg_pool2d": {}}, {"flatten": {}}, {"identity": {}}, {"linear": {"out": 10}}, {"scale": {"factor": 0.5}}]
        """#

    func testBlocksDecodeRoundTripAndBuildTheTree() throws {
        let c = try config(Self.residual)
        let layers = try XCTUnwrap(c.model.layers)
        guard case .residual(let first) = layers[1], case .repeated(let times, let repeated) = layers[3],
              case .branches(let branches) = repeated[0] else {
            return XCTFail("blocks decoded as \(layers)")
        }
        XCTAssertEqual(first.activation, .relu)
        XCTAssertEqual(first.shortcut, [])
        XCTAssertEqual(times, 2)
        XCTAssertEqual(branches.merge, .concat)
        XCTAssertEqual(branches.paths.count, 2)
        // The resolved config (what a checkpoint stores) decodes to the same model.
        let again = try ExperimentConfig.decode(Data(try c.jsonText().utf8), file: "resolved.json")
        XCTAssertEqual(again.model, c.model)

        let model = try ModelFactory.make(c.model, input: [3, 8, 8], outputs: 10, seed: 1)
        let names = Set(model.namedParameters().map(\.0))
        for name in ["1.body.0.weight", "1.body.1.bias", "2.shortcut.0.weight", "3.0.0.0.0.weight", "3.1.1.weight", "7.weight"] {
            XCTAssertTrue(names.contains(name), "\(name) missing from \(names.sorted())")
        }
        // affine: false has no weight or bias; a kept batch norm has both.
        XCTAssertFalse(names.contains("2.shortcut.1.weight"))
        XCTAssertTrue(model.namedBuffers().map(\.0).contains("2.shortcut.1.running_mean"))
        // The two repetitions have their own weights.
        let state = Dictionary(uniqueKeysWithValues: model.namedParameters())
        XCTAssertNotEqual(state["3.0.1.weight"]!.scalars, state["3.1.1.weight"]!.scalars)
        // Concat of 2 conv channels and the 8-channel input gives 10 channels into each 1x1 conv.
        XCTAssertEqual(state["3.0.1.weight"]!.shape, [8, 10, 1, 1])
        let x = Tensor.ones([2, 3, 8, 8])
        XCTAssertEqual(model.forward(x).shape, [2, 10])
        // The summary lists each block as one row, with its parts.
        let rows = try model.summaryRows(input: [2, 3, 8, 8])
        XCTAssertTrue(rows[1].layer.hasPrefix("Residual(body: Conv2d"), rows[1].layer)
        // A repeat's repetitions are opened: one row per block inside each.
        XCTAssertTrue(rows.contains { $0.name == "3.0.0" && $0.layer.hasPrefix("Branches(concat)(0: Conv2d") }, "\(rows.map(\.name))")
        XCTAssertTrue(rows.contains { $0.name == "3.1.1" && $0.output == [2, 8, 4, 4] })
    }

    func testSchemaErrorsInsideBlocksNameTheirPath() {
        XCTAssertTrue(configError(#"[{"residual": {"body": [{"conv2d": {"kernel": 3}}]}}]"#).contains("model.layers[0].residual.body[0].conv2d.out"))
        XCTAssertTrue(configError(#"[{"residual": {"body": [{"relu": {}}], "shortcut": [{"conv2d": {"out": 2, "kernal": 1}}]}}]"#)
            .contains("model.layers[0].residual.shortcut[0].conv2d.kernal: unknown key; did you mean kernel?"))
        XCTAssertTrue(configError(#"[{"branches": {"merge": "sum", "paths": [[]]}}]"#).contains("model.layers[0].branches.merge"))
        XCTAssertTrue(configError(#"[{"repeat": {"times": 0, "layers": [{"relu": {}}]}}]"#).contains("model.layers[0].repeat.times"))
        XCTAssertTrue(configError(#"[{"residual": {"body": []}}]"#).contains("model.layers[0].residual.body"))
        XCTAssertTrue(configError(#"[{"residual": {"body": [{"relu": {}}], "activation": "swish"}}]"#).contains("model.layers[0].residual.activation"))
    }

    func testShapeMismatchesNameThePathAndBothShapes() {
        // The body halves the image, the identity shortcut does not.
        let add = modelError(#"[{"conv2d": {"out": 4, "kernel": 1}}, {"residual": {"body": [{"relu": {}}, {"conv2d": {"out": 4, "kernel": 3, "padding": 1, "stride": 2}}]}}, {"flatten": {}}, {"linear": {"out": 10}}]"#)
        XCTAssertTrue(add.contains("model.layers[1].residual: "), add)
        XCTAssertTrue(add.contains("body gives [1, 4, 4, 4]") && add.contains("shortcut gives [1, 4, 8, 8]"), add)
        // A layer inside a body that does not fit its input names its own path and input.
        let inner = modelError(#"[{"residual": {"body": [{"relu": {}}, {"batch_norm1d": {}}]}}, {"flatten": {}}, {"linear": {"out": 10}}]"#)
        XCTAssertTrue(inner.contains("model.layers[0].residual.body[1] (batch_norm1d)"), inner)
        XCTAssertTrue(inner.contains("[1, 3, 8, 8]"), inner)
        let concat = modelError(#"[{"branches": {"merge": "concat", "paths": [[{"max_pool2d": {"kernel": 2}}], []]}}, {"flatten": {}}, {"linear": {"out": 10}}]"#)
        XCTAssertTrue(concat.contains("model.layers[0].branches: ") && concat.contains("paths[0] gives [1, 3, 4, 4]") && concat.contains("paths[1] gives [1, 3, 8, 8]"), concat)
        let dirac = modelError(#"[{"conv2d": {"out": 6, "kernel": 3, "groups": 3, "init": "dirac"}}, {"flatten": {}}, {"linear": {"out": 10}}]"#)
        XCTAssertTrue(dirac.contains("model.layers[0].conv2d.init: dirac needs groups 1"), dirac)
        let repeated = modelError(#"[{"repeat": {"times": 4, "layers": [{"max_pool2d": {"kernel": 2}}]}}, {"flatten": {}}, {"linear": {"out": 10}}]"#)
        XCTAssertTrue(repeated.contains("model.layers[0].repeat.layers[0] (max_pool2d)") && repeated.contains("repetition 4 of 4"), repeated)
    }

    func testBatchNormInsideABlockIsCheckedForOneValuePerChannel() throws {
        let c = try config(#"[{"global_avg_pool2d": {}}, {"residual": {"body": [{"batch_norm2d": {}}]}}, {"flatten": {}}, {"linear": {"out": 10}}]"#)
        let model = try ModelFactory.make(c.model, input: [3, 8, 8], outputs: 10, seed: 1)
        XCTAssertThrowsError(try ModelFactory.checkTrainingBatches(model, config: c.model, input: [3, 8, 8], batchSize: 4, sampleCount: 9, dropLast: false)) { error in
            XCTAssertTrue("\(error)".contains("model.layers[1] (module 1.body.0) (batch norm)"), "\(error)")
            XCTAssertTrue("\(error)".contains("the last training batch"), "\(error)")
        }
        XCTAssertNoThrow(try ModelFactory.checkTrainingBatches(model, config: c.model, input: [3, 8, 8], batchSize: 4, sampleCount: 8, dropLast: false))
    }

    func testMemoryEstimateCountsEveryPathOfABlock() throws {
        let c = try config(Self.residual)
        let estimate = try XCTUnwrap(ModelMemoryEstimate.of(c.model, input: [3, 8, 8], outputs: 10, batchSize: 4))
        let model = try ModelFactory.make(c.model, input: [3, 8, 8], outputs: 10, seed: 1)
        XCTAssertEqual(estimate.parameters, Double(model.parameterCount))
        XCTAssertTrue(estimate.layers.contains { $0.path == "model.layers[2].residual.shortcut[0]" })
        XCTAssertTrue(estimate.layers.contains { $0.path == "model.layers[3].repeat.layers[0].branches.paths[0][0]" })
    }

    func testParameterGroupsSelectByLayerKindAndName() throws {
        let extra = #", "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "groups": [{"layers": ["batch_norm"], "match": ["*.bias"], "lr_scale": 4, "weight_decay": 0}, {"match": ["*.body.*"], "lr_scale": 0}]}"#
        let c = try config(Self.residual, extra: extra)
        XCTAssertEqual(c.optimizer.groups.count, 2)
        XCTAssertEqual(try ExperimentConfig.decode(Data(try c.jsonText().utf8), file: "r.json").optimizer, c.optimizer)
        let model = try ModelFactory.make(c.model, input: [3, 8, 8], outputs: 10, seed: 1)
        let optimizer = try XCTUnwrap(try TrainingFactory.optimizer(c.optimizer, model: model) as? ParameterGroups)
        let named = model.namedParameters()
        func names(_ g: Int) -> [String] { optimizer.groups[g].indices.map { named[$0].0 } }
        XCTAssertEqual(names(0), ["1.body.1.bias", "2.body.1.bias"])
        XCTAssertEqual(names(1), ["1.body.0.weight", "1.body.0.bias", "1.body.1.weight", "2.body.0.weight", "2.body.0.bias", "2.body.1.weight"])
        XCTAssertEqual(optimizer.groups.map(\.learningRateScale), [4, 0, 1])
        optimizer.learningRate = 0.5
        XCTAssertEqual(optimizer.groups.map(\.optimizer.learningRate), [2, 0, 0.5])
        XCTAssertEqual((optimizer.groups[0].optimizer as? SGD)?.weightDecay, 0)
        XCTAssertEqual((optimizer.groups[2].optimizer as? SGD)?.weightDecay, 0.01)
        // A group that selects nothing is a mistake worth an error.
        let typo = try config(Self.residual, extra: #", "optimizer": {"groups": [{"match": ["*.bais"]}]}"#)
        XCTAssertThrowsError(try TrainingFactory.optimizer(typo.optimizer, model: model)) { error in
            XCTAssertTrue("\(error)".contains("optimizer.groups[0] selects no parameter"), "\(error)")
        }
        XCTAssertThrowsError(try config(Self.residual, extra: #", "optimizer": {"groups": [{"lr_scale": 2}]}"#)) { error in
            XCTAssertTrue("\(error)".contains("needs \"layers\""), "\(error)")
        }
    }

    func testGlobMatchesDotsStarsAndSingleCharacters() {
        XCTAssertTrue(ParameterGroupConfig.glob("*.bias", matches: "layer1.0.body.bn1.bias"))
        XCTAssertTrue(ParameterGroupConfig.glob("layer?.*", matches: "layer2.0.weight"))
        XCTAssertFalse(ParameterGroupConfig.glob("*.bias", matches: "bn.bias_x"))
        XCTAssertTrue(ParameterGroupConfig.glob("*", matches: ""))
        XCTAssertFalse(ParameterGroupConfig.glob("a*b*c", matches: "abxbx"))
        XCTAssertTrue(ParameterGroupConfig.glob("a*b*c", matches: "axxbyyc"))
    }

    func testOneCycleSchedulerFromTheConfigSpansTheRun() throws {
        let c = try config(Self.residual, extra: #", "scheduler": {"type": "one_cycle", "interval": "step", "pct_start": 0.25, "anneal_strategy": "linear"}"#)
        XCTAssertEqual(c.scheduler.type, .oneCycle)
        XCTAssertNil(c.scheduler.totalSteps)
        XCTAssertEqual(try ExperimentConfig.decode(Data(try c.jsonText().utf8), file: "r.json").scheduler, c.scheduler)
        let schedule = try XCTUnwrap(try TrainingFactory.schedule(c.scheduler, horizon: 40) as? OneCycleLR)
        XCTAssertEqual(schedule.totalSteps, 40, "null total_steps: the run's steps")
        XCTAssertEqual(schedule.learningRate(atEpoch: 0, base: 1), 1.0 / 25, accuracy: 1e-15)
        XCTAssertEqual(schedule.learningRate(atEpoch: 9, base: 1), 1, accuracy: 1e-15)
    }
}
