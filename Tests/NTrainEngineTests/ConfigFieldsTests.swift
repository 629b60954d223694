import Foundation
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
    private func config(_ path: String, _ section: String) throws -> ExperimentConfig {
        var json = section
        for part in path.split(separator: ".").reversed() { json = "{\"\(part)\": \(json)}" }
        let base = #"{"data": {"dataset": "random", "count": 8, "shape": [1, 2, 2], "classes": 2}, "model": {"arch": "mlp", "hidden": [4]}"#
        var tree = try JSONValue(parsing: Data((base + "}").utf8))
        guard case .object(var members) = tree, case .object(let extra) = try JSONValue(parsing: Data(json.utf8)) else { fatalError() }
        for (k, v) in extra { members[k] = v }
        tree = .object(members)
        return try ExperimentConfig.decode(tree)
    }
}
