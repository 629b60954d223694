import Foundation
import XCTest

/// What a new user meets first: a misspelled command, several config mistakes at once, a mistake
/// inside --set, shell completions, and the live bar on a narrow terminal.
final class CLIPolishTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try CLI.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func write(_ text: String, _ name: String = "exp.json") throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private var randomLeNet5: String {
        #"{"name": "bar", "seed": 1, "data": {"dataset": "random", "count": 512, "test_count": 16, "shape": [1, 28, 28], "classes": 10, "batch_size": 16, "transforms": [{"scale": 0.0039}]}, "model": {"arch": "lenet5"}, "optimizer": {"type": "sgd", "lr": 0.01}, "train": {"epochs": 1, "log_every": 1}}"#
    }

    func testMisspelledCommandGetsADidYouMean() throws {
        let r = try CLI.run(["trian", "exp.json"])
        XCTAssertEqual(r.status, 2, r.summary)
        XCTAssertTrue(r.stderr.contains("unknown command 'trian'; did you mean train?"), r.stderr)
        let far = try CLI.run(["frobnicate"])
        XCTAssertEqual(far.status, 2)
        XCTAssertTrue(far.stderr.contains("commands: train, eval, predict, export"), far.stderr)
        XCTAssertEqual(try CLI.run(["--version"]).status, 0, "options before a command still parse")
    }

    func testEveryConfigMistakeIsListedAndSetMistakesNameTheSetArgument() throws {
        let path = try write(#"{"name": "x", "data": {"dataset": "mnist", "batch_size": 0, "shufle": true}, "model": {"arch": "lenet"}, "optimizer": {"type": "sgd", "lr": -1}}"#)
        let r = try CLI.run(["train", path])
        XCTAssertEqual(r.status, 2, r.summary)
        XCTAssertTrue(r.stderr.contains("the config has 3 problems:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(path): data.batch_size: must be in [1, 1048576], got 0"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(path): data.shufle: unknown key; did you mean shuffle?"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(path): optimizer.lr: must be > 0, got -1"), r.stderr)

        let good = try write(randomLeNet5, "good.json")
        let set = try CLI.run(["train", good, "--set", "optimizer.lr=0", "--set", "train.epochs=2"])
        XCTAssertEqual(set.status, 2, set.summary)
        XCTAssertTrue(set.stderr.contains("error: --set optimizer.lr=0: optimizer.lr: must be > 0, got 0"), set.stderr)
        XCTAssertFalse(set.stderr.contains("good.json"), "the file is fine; the mistake is in --set: \(set.stderr)")
    }

    func testCompletionsOfferPathsAndValues() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try CLI.run(["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, r.summary)
            for word in ["predict", "export", "cpux", "gpux", "xpux", "fashion-mnist", "safetensors"] {
                XCTAssertTrue(r.stdout.contains(word), "\(shell) completion lacks \(word)")
            }
            XCTAssertTrue(r.stdout.contains("mge"), "\(shell): checkpoint paths complete")
            XCTAssertTrue(r.stdout.contains("json"), "\(shell): config paths complete")
        }
    }

    func testTheLiveBarFitsANarrowTerminalAndCountsAreSingular() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("util-linux script (a pseudo-terminal) is absent") }
        let config = try write(randomLeNet5)
        let transcript = folder.appendingPathComponent("typescript")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "stty cols 60; '\(try CLI.binary().path)' train '\(config)' --out '\(folder.appendingPathComponent("run").path)'", transcript.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let text = String(decoding: try Data(contentsOf: transcript), as: UTF8.self)
        let escape = try NSRegularExpression(pattern: "\u{1B}\\[[0-9;]*[A-Za-z]")
        let plain = escape.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "")
        let redraws = plain.components(separatedBy: CharacterSet(charactersIn: "\r\n")).filter { $0.hasPrefix("[") && $0.contains("step") }
        XCTAssertGreaterThan(redraws.count, 10, "the bar is redrawn on a terminal")
        for bar in redraws { XCTAssertLessThan(bar.count, 60, "a bar line wider than the 60-column terminal wraps: \(bar)") }
        XCTAssertTrue(plain.contains("done: 1 epoch, 32 steps"), plain.suffix(300).description)
    }
}
