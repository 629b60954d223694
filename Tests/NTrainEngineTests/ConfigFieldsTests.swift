import Foundation
import NTrainCore
import NTrainNN
import XCTest
@testable import NTrainEngine

/// The sections declared once, as fields (`ConfigSection`): docs/config.md shows exactly their
/// tables, and every documented key changes the decoded config (a key that were accepted and then
/// dropped would fail here) and survives a round trip through the resolved config.
final class ConfigFieldsTests: XCTestCase {
    private static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/config.md")

    /// Fails when a table in docs/config.md differs from its fields; `NTRAIN_UPDATE_DOCS=1 swift
    /// test --filter ConfigFieldsTests` rewrites the tables.
    func testDocsShowTheDeclaredFields() throws {
        var text = try String(contentsOf: Self.docs, encoding: .utf8)
        var stale: [String] = []
        for entry in ConfigSections.docsTables {
            let open = "<!-- fields: \(entry.path) -->\n", close = "<!-- /fields -->"
            guard let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) else {
                XCTFail("docs/config.md has no \(open.dropLast()) … \(close) for the \(entry.path) section")
                continue
            }
            let want = entry.table + "\n"
            if text[start.upperBound..<end.lowerBound] != want {
                stale.append(entry.path)
                text.replaceSubrange(start.upperBound..<end.lowerBound, with: want)
            }
        }
        if ProcessInfo.processInfo.environment["NTRAIN_UPDATE_DOCS"] == "1" {
            try text.write(to: Self.docs, atomically: true, encoding: .utf8)
        } else {
            XCTAssertEqual(stale, [], "docs/config.md's tables differ from the fields; run NTRAIN_UPDATE_DOCS=1 swift test --filter ConfigFieldsTests")
        }
    }

    func testEveryDocumentedKeyChangesTheDecodedConfig() throws {
        for entry in ConfigSections.all {
            XCTAssertFalse(entry.examples.isEmpty, entry.path)
            func section(_ members: [String: String]) -> String {
                let object = "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
                return entry.inArray ? "[\(object)]" : object
            }
            for (key, example, needs) in entry.examples {
                // Without a required key (piecewise `values`) the plain section is invalid.
                // A need written "" is a key left out (a `layers` model has no `arch`).
                let base = entry.base(for: needs).merging(needs) { $1 }.filter { !$0.value.isEmpty }
                let plain = try? config(entry.path, section(base))
                let set = try config(entry.path, section(base.merging([key: example]) { $1 }))
                XCTAssertNotEqual(set, plain, "\(entry.path).\(key) = \(example) is accepted but changes nothing")
                XCTAssertEqual(try ExperimentConfig.decode(set.jsonValue), set, "\(entry.path).\(key) round trip")
            }
        }
    }

    /// Every option of every layer kind changes the decoded model and survives the round trip;
    /// every kind decodes with its required options alone.
    func testEveryLayerOptionChangesTheDecodedModel() throws {
        func model(_ kind: String, _ members: [String: String]) throws -> ExperimentConfig {
            let options = "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
            return try config("model", #"{"layers": [{"\#(kind)": \#(options)}]}"#)
        }
        XCTAssertEqual(LayerKinds.all.count, 21)
        for kind in LayerKinds.all {
            let required = kind.required
            let plain = try model(kind.name, required)
            XCTAssertEqual(try ExperimentConfig.decode(plain.jsonValue), plain, "\(kind.name) round trip")
            for (key, example) in kind.examples {
                let set = try model(kind.name, required.merging([key: example]) { $1 })
                XCTAssertNotEqual(set, plain, "\(kind.name).\(key) = \(example) is accepted but changes nothing")
                XCTAssertEqual(try ExperimentConfig.decode(set.jsonValue), set, "\(kind.name).\(key) round trip")
            }
            for key in required.keys {
                XCTAssertThrowsError(try model(kind.name, required.filter { $0.key != key }), "\(kind.name) without \(key)") { error in
                    XCTAssertTrue("\(error)".contains("\(kind.name).\(key): missing (required)"), "\(error)")
                }
            }
        }
    }

    /// Every documented key of the sections the engine builds objects from changes what it builds:
    /// the model (as in the layer test below), the loss (value and gradient on fixed outputs), the
    /// optimizer (parameters after three steps on fixed gradients, over the model's parameter
    /// groups) and the scheduler (learning rate and cycled momentum over twelve steps, with
    /// metrics for plateau). The keys listed in `readByTheRun` change no built object: the
    /// training loop reads them, and the test named beside each covers it.
    func testEveryDocumentedKeyChangesTheBuiltObjects() throws {
        let readByTheRun: [String: String] = ["scheduler.interval": "TrainerTests.testStepIntervalSchedulerStepsPerBatch",
                                              "loss.reduction": "TrainerTests.testSumReductionIsTheMeanTimesTheBatch"]
        let sections = ["model", "loss", "optimizer", "optimizer.groups", "scheduler"]
        var checked = 0
        for entry in ConfigSections.all where sections.contains(entry.path) {
            func built(_ members: [String: String]) throws -> BuiltObjects {
                let groups = entry.path == "optimizer.groups"
                let members = groups ? ["lr_scale": "0.5"].merging(members) { $1 } : members
                let object = "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
                guard groups else { return try Self.builtObjects(config(entry.path, object)) }
                // A group in a model with conv, batch norm and linear parameters, at its own
                // scale, beside an optimizer whose weight decay the group's can override.
                return try Self.builtObjects(config("optimizer", #"{"weight_decay": 0.1, "groups": [\#(object)]}"#, model:
                    #"{"layers": [{"conv2d": {"out": 2, "kernel": 1}}, {"batch_norm2d": {}}, {"flatten": {}}, {"linear": {"out": 2}}]}"#))
            }
            for (key, example, needs) in entry.examples where readByTheRun["\(entry.path).\(key)"] == nil {
                let base = entry.base(for: needs).merging(needs) { $1 }.filter { !$0.value.isEmpty }
                guard let plain = try? built(base) else { continue }  // a required key: the plain section is invalid
                let set = try built(base.merging([key: example]) { $1 })
                XCTAssertTrue(set != plain, "\(entry.path).\(key) = \(example) is decoded but changes no built object")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 50)
    }

    /// The objects an experiment builds before training, as bits.
    private struct BuiltObjects: Equatable {
        var model = BuiltFingerprint()
        var loss: [UInt32] = []
        var parametersAfterSteps: [[UInt32]] = []
        var schedule: [String] = []
    }

    private static func builtObjects(_ c: ExperimentConfig) throws -> BuiltObjects {
        // The data of `config(_:_:)`: random [1, 2, 2] images of 2 classes; built-in archs with
        // larger stems get the smallest input they take.
        let inputs: [Shape] = [[1, 2, 2], [1, 28, 28], [3, 32, 32]]
        func model() throws -> (Module, Shape) {
            for input in inputs {
                if let m = try? ModelFactory.make(c.model, input: input, outputs: 2, seed: UInt64(c.seed)) { return (m, input) }
            }
            return (try ModelFactory.make(c.model, input: inputs[0], outputs: 2, seed: UInt64(c.seed)), inputs[0])
        }
        var b = BuiltObjects()
        let (m, input) = try model()
        b.model = try fingerprint(of: m, input: Shape([3] + input.dims))

        var g = RandomGenerator(seed: 3)
        let loss = TrainingFactory.loss(c.loss)
        let output = Tensor(shape: [4, 2], scalars: (0..<8).map { _ in g.uniform(0.05, 0.95) }, requiresGrad: true)
        let target = loss.usesClassTargets ? Tensor(shape: [4], int32s: [0, 1, 1, 0])
            : Tensor(shape: [4, 2], scalars: (0..<8).map { _ in g.uniform(0, 1) })
        let value = loss(output, target)
        value.backward()
        b.loss = (value.scalars + (output.grad?.scalars ?? [])).map(\.bitPattern)

        let (stepped, _) = try model()
        let optimizer = try TrainingFactory.optimizer(c.optimizer, model: stepped)
        for scale: Float in [1, 1e-2, 1e-4] {  // shrinking gradients: amsgrad's running max then differs
            for p in optimizer.parameters { p.grad = Tensor(shape: p.shape, scalars: (0..<p.count).map { _ in scale * g.uniform(-1, 1) }) }
            optimizer.step()
        }
        b.parametersAfterSteps = optimizer.parameters.map { $0.scalars.map(\.bitPattern) }

        let (scheduled, _) = try model()
        let scheduledOptimizer = try TrainingFactory.optimizer(c.optimizer, model: scheduled)
        let scheduler = try TrainingFactory.scheduler(c.scheduler, optimizer: scheduledOptimizer, horizon: 10)
        // A loss that falls, then improves by 0.05% a step (more than the default threshold, less
        // than 1% in all), then stays flat long enough for plateau's default patience and factor
        // to take the rate below 1e-4.
        let metrics: [Double] = [1, 0.9] + (1...15).map { 0.9 * pow(0.9995, Double($0)) } + Array(repeating: 0.88, count: 90)
        for metric in metrics {
            b.schedule.append("\(scheduledOptimizer.learningRate) \(scheduledOptimizer.cycledMomentum.map { "\($0)" } ?? "-")")
            if scheduler.needsMetric { scheduler.step(metric: metric) } else { scheduler.step() }
        }
        return b
    }

    /// Every option of every layer kind changes the built module, not only the decoded config:
    /// its modules, parameters, the output and input gradient of a training step, the buffers after
    /// it, and the output in eval mode. An option decoded and then ignored by the builder (the old
    /// `batch_norm2d` `affine: false`) fails here. Building the same layer twice gives the same
    /// fingerprint, so the test can tell.
    func testEveryLayerOptionChangesTheBuiltModule() throws {
        func layers(_ kind: String, _ members: [String: String]) throws -> [LayerSpec] {
            let options = "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
            return try XCTUnwrap(config("model", #"{"layers": [{"\#(kind)": \#(options)}]}"#).model.layers)
        }
        // Images first; a kind that takes features only (batch_norm1d) gets [N, F].
        let inputs: [Shape] = [[3, 4, 6, 6], [3, 6]]
        for kind in LayerKinds.all {
            let required = try layers(kind.name, kind.required)
            guard let input = inputs.first(where: { (try? Self.build(required, input: $0)) != nil }) else {
                XCTFail("\(kind.name) with \(kind.required) builds for none of \(inputs)")
                continue
            }
            let plain = try Self.build(required, input: input)
            XCTAssertEqual(try Self.build(required, input: input), plain, "\(kind.name) built twice differs")
            for (key, example) in kind.examples {
                let set = try Self.build(layers(kind.name, kind.required.merging([key: example]) { $1 }), input: input)
                XCTAssertTrue(set != plain, "\(kind.name).\(key) = \(example) is decoded but changes nothing in the built module (input \(input))")
            }
        }
    }

    /// What a built layer list is and does, as bits.
    private struct BuiltFingerprint: Equatable {
        var modules: [String] = []
        var parameters: [String: [UInt32]] = [:]
        var trainOutput: [UInt32] = [], inputGradient: [UInt32] = [], buffers: [String: [UInt32]] = [:]
        var evalOutput: [UInt32] = []
    }

    private static func build(_ specs: [LayerSpec], input: Shape) throws -> BuiltFingerprint {
        var builder = LayerTreeBuilder(seed: 5, initializer: .kaimingUniform)
        return try fingerprint(of: builder.sequence(specs, path: "model.layers", input: input).0, input: input)
    }

    private static func fingerprint(of model: Module, input: Shape) throws -> BuiltFingerprint {
        func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }
        var f = BuiltFingerprint()
        f.modules = model.namedModules().map { "\($0.0): \(type(of: $0.1))" }
        for (name, p) in model.namedParameters() { f.parameters[name + " \(p.shape.dims)"] = bits(p) }
        var g = RandomGenerator(seed: 11)
        let x = Tensor(shape: input, scalars: (0..<input.count).map { _ in g.uniform(-2, 2) }, requiresGrad: true)
        model.train()
        let y = model(x)
        (y * y).sum().backward()
        f.trainOutput = bits(y)
        f.modules.append("output \(y.shape.dims)")
        f.inputGradient = try bits(XCTUnwrap(x.grad))
        for (name, b) in model.namedBuffers() { f.buffers[name] = bits(b) }
        model.eval()
        f.evalOutput = bits(model(Tensor(shape: input, scalars: x.scalars)))
        return f
    }

    /// Every sample of every transform kind (each option set in turn) decodes to a different
    /// config and survives the round trip.
    func testEveryTransformOptionChangesTheDecodedData() throws {
        XCTAssertEqual(TransformKinds.all.count, 7)
        for kind in TransformKinds.all {
            var seen: [ExperimentConfig] = []
            for sample in kind.samples {
                let c = try config("data", #"{"dataset": "mnist", "transforms": [{"\#(kind.name)": \#(sample)}]}"#)
                XCTAssertEqual(try ExperimentConfig.decode(c.jsonValue), c, "\(kind.name) \(sample) round trip")
                XCTAssertFalse(seen.contains(c), "\(kind.name) \(sample) changes nothing")
                seen.append(c)
            }
        }
    }

    /// Keys outside the fields are refused with the fields as the allowed list.
    func testTheSchemaIsTheFields() {
        XCTAssertThrowsError(try config("train", #"{"epoch": 3}"#)) { error in
            XCTAssertTrue("\(error)".contains("did you mean epochs"), "\(error)")
        }
        XCTAssertThrowsError(try config("checkpoint", #"{"every": -1}"#)) { error in
            XCTAssertTrue("\(error)".contains("checkpoint.every"), "\(error)")
        }
    }

    /// A minimal config with `section` at its dotted path.
    private func config(_ path: String, _ section: String, model: String = #"{"arch": "mlp", "hidden": [4]}"#) throws -> ExperimentConfig {
        var json = section
        for part in path.split(separator: ".").reversed() { json = "{\"\(part)\": \(json)}" }
        let base = #"{"data": {"dataset": "random", "count": 8, "shape": [1, 2, 2], "classes": 2}, "model": "# + model
        var tree = try JSONValue(parsing: Data((base + "}").utf8))
        guard case .object(var members) = tree, case .object(let extra) = try JSONValue(parsing: Data(json.utf8)) else { fatalError() }
        for (k, v) in extra { members[k] = v }
        tree = .object(members)
        return try ExperimentConfig.decode(tree)
    }
}
