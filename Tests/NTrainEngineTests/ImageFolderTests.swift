import Foundation
import XCTest
import NTrainCore
import NTrainData
@testable import NTrainEngine

/// `image_folder` (torchvision's ImageFolder layout) with the `resize` transform: photos of mixed
/// sizes train from a config alone, a validation fraction takes every class, and the layouts that
/// cannot work are refused with what to do.
final class ImageFolderTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntrain-folder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        Interrupt.reset()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// A gray PGM of `w`x`h`: bright with a dark left half for "bright", the reverse for "dark".
    private func image(_ path: URL, w: Int, h: Int, bright: Bool, seed: Int) throws {
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        var data = Data("P5\n\(w) \(h)\n255\n".utf8)
        for y in 0..<h {
            for x in 0..<w {
                let left = x < w / 2
                let base = (left != bright) ? 220 : 30
                data.append(UInt8(base + (x * 7 + y * 3 + seed) % 25))
            }
        }
        try data.write(to: path)
    }

    private func makeTree(_ root: URL, perClass: Int, sizes: [(Int, Int)]) throws {
        for (c, name) in ["bright", "dark"].enumerated() {
            for i in 0..<perClass {
                let (w, h) = sizes[i % sizes.count]
                try image(root.appendingPathComponent("\(name)/\(i % 2 == 0 ? "" : "sub/")img\(i).pgm"), w: w, h: h, bright: c == 0, seed: i)
            }
        }
        try Data("ignored".utf8).write(to: root.appendingPathComponent("bright/readme.txt"))
    }

    private func config(_ data: String) throws -> ExperimentConfig {
        try ExperimentConfig.decode(Data("""
        {"name": "folder", "seed": 4,
         "data": {"dataset": "image_folder", "batch_size": 8, \(data)},
         "model": {"layers": [{"conv2d": {"out": 4, "kernel": 3, "padding": 1}}, {"relu": {}}, {"global_avg_pool2d": {}},
                              {"flatten": {}}, {"linear": {"out": 2}}]},
         "optimizer": {"type": "adam", "lr": 0.05}, "train": {"epochs": 8}, "logging": {"tensorboard": false}}
        """.utf8), file: "folder.json")
    }

    func testMixedSizesTrainWithResizeAndTheValidationSplitHoldsEveryClass() throws {
        let train = folder.appendingPathComponent("train")
        try makeTree(train, perClass: 16, sizes: [(12, 10), (8, 8), (20, 14)])
        let c = try config(#""path": "\#(train.path)", "validation": 0.25, "transforms": [{"resize": [8, 8]}, {"scale": 0.00392156862745098}]"#)
        let data = try DataFactory.make(c.data, seed: 4)
        XCTAssertEqual(data.classNames, ["bright", "dark"])
        XCTAssertEqual(data.inputShape.dims, [1, 8, 8])
        XCTAssertEqual(data.train.sampleCount, 24)
        XCTAssertEqual(data.eval.sampleCount, 8)
        let held = data.eval.batch(epoch: 0, index: 0).targets.int32Data
        let labels = (0..<8).map { held[$0] }
        XCTAssertTrue(labels.contains(0) && labels.contains(1), "the validation split takes both classes: \(labels)")

        let trainer = try Trainer(config: c, options: TrainOptions(out: folder.appendingPathComponent("run").path))
        let summary = try trainer.run()
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(summary.progress.history.last?.evalAccuracy), 0.99)
        // The checkpoint records the read size, so predict resizes a new photo the same way.
        let model = try CheckpointModel.load(folder.appendingPathComponent("run/last.mge").path)
        XCTAssertEqual(model.imageShape, [1, 8, 8])
        XCTAssertEqual(model.classNames, ["bright", "dark"])
        try image(folder.appendingPathComponent("new.pgm"), w: 31, h: 17, bright: false, seed: 3)
        var got: [Prediction] = []
        try Predictor(checkpoint: folder.appendingPathComponent("run/last.mge").path).predict([folder.appendingPathComponent("new.pgm").path], top: 1) { got.append($0) }
        XCTAssertEqual(got.first?.top.first?.name, "dark")
        XCTAssertEqual(got.first?.adjustments, ["resized 31x17 to 8x8"])
    }

    func testLayoutsThatCannotWorkAreRefusedWithWhatToDo() throws {
        let train = folder.appendingPathComponent("train")
        try makeTree(train, perClass: 4, sizes: [(12, 10), (8, 8)])
        func refused(_ data: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
            XCTAssertThrowsError(try DataFactory.make(try config(data).data, seed: 1), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(error)", file: file, line: line)
            }
        }
        try refused(#""path": "\#(train.path)""#, #"add {"resize": [H, W]} to data.transforms"#)
        try refused(#""path": "\#(folder.path)/nowhere""#, "one subfolder of images per class")
        let other = folder.appendingPathComponent("test")
        try image(other.appendingPathComponent("bright/a.pgm"), w: 8, h: 8, bright: true, seed: 0)
        try image(other.appendingPathComponent("cloudy/a.pgm"), w: 8, h: 8, bright: true, seed: 0)
        try refused(#""path": "\#(train.path)", "test_path": "\#(other.path)", "transforms": [{"resize": 8}]"#,
                    "missing: dark; not in training: cloudy")
        try FileManager.default.createDirectory(at: train.appendingPathComponent("empty"), withIntermediateDirectories: true)
        try refused(#""path": "\#(train.path)", "transforms": [{"resize": 8}]"#, "holds no .png, .jpg, .jpeg or .pgm files")
        XCTAssertThrowsError(try config(#""transforms": [{"resize": 8}]"#)) { XCTAssertTrue("\($0)".contains("path"), "\($0)") }
        XCTAssertThrowsError(try config(#""path": "x", "transforms": [{"resize": [0, 8]}]"#)) { XCTAssertTrue("\($0)".contains("resize"), "\($0)") }
    }
}
