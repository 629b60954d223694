import Foundation

/// Which part of a dataset.
public enum DatasetSplit: String, CaseIterable, Sendable {
    case train, test
}

/// A labelled image dataset held in memory as raw bytes: images `[N, C, H, W]` (uint8, planar),
/// labels `[N]` (int32 class indices). Transforms to float run later, in the `DataLoader`.
public struct ImageDataset: Sendable {
    public let name: String
    /// `count * channels * height * width` bytes, sample-major then channel planes.
    public let images: [UInt8]
    public let labels: [Int32]
    public let channels: Int
    public let height: Int
    public let width: Int
    /// Class names, index = label.
    public let classNames: [String]
    /// Caveats a user should see (e.g. a partial test split).
    public var notes: [String] = []

    public init(name: String, images: [UInt8], labels: [Int32], channels: Int, height: Int, width: Int,
                classNames: [String], notes: [String] = []) {
        precondition(images.count == labels.count * channels * height * width, "images and labels disagree")
        self.name = name
        self.images = images
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classNames = classNames
        self.notes = notes
    }

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }
    /// Bytes per image.
    public var sampleSize: Int { channels * height * width }

    /// The first `n` samples (for quick runs and tests).
    public func prefix(_ n: Int) -> ImageDataset {
        let k = min(n, count)
        return ImageDataset(name: name, images: Array(images[0..<k * sampleSize]), labels: Array(labels[0..<k]),
                            channels: channels, height: height, width: width, classNames: classNames, notes: notes)
    }
}

/// Loads the built-in datasets from a dataset root (see `DatasetRoot`).
public enum BuiltinDatasets {
    public static let mnistClasses = (0...9).map(String.init)
    public static let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Loads `split` of `kind` from `<root>/<kind.folderName>`.
    public static func load(_ kind: DatasetKind, split: DatasetSplit, root: URL) throws -> ImageDataset {
        let folder = root.appendingPathComponent(kind.folderName).path
        switch kind {
        case .mnist, .fashionMNIST:
            let prefix = split == .train ? "train" : "t10k"
            let images = try locate(folder: folder, name: "\(prefix)-images-idx3-ubyte", kind: kind)
            let labels = try locate(folder: folder, name: "\(prefix)-labels-idx1-ubyte", kind: kind)
            return try IDXReader.loadPair(images: images, labels: labels, name: "\(kind.rawValue)/\(split.rawValue)",
                                          classNames: kind == .mnist ? mnistClasses : fashionMNISTClasses,
                                          expectedCount: split == .train ? 60_000 : 10_000)
        case .cifar10:
            return try CIFARReader.load(folder: folder, split: split)
        }
    }

    /// The path of `name` or `name.gz` in `folder`, whichever exists (plain first).
    static func locate(folder: String, name: String, kind: DatasetKind) throws -> String {
        let fm = FileManager.default
        for candidate in [name, name + ".gz"] {
            let path = (folder as NSString).appendingPathComponent(candidate)
            if fm.fileExists(atPath: path) { return path }
        }
        throw DatasetError.missingFile(path: (folder as NSString).appendingPathComponent(name + ".gz"),
                                       hint: "Run `ntrain download \(kind.rawValue)` (add --root DIR or set NTRAIN_DATA to use another dataset root).")
    }
}

/// Where datasets live: an explicit root (`--root`, config `data.root`) wins, then `NTRAIN_DATA`,
/// then `~/.cache/ntrain/datasets`. Each dataset has its own folder below the root.
public enum DatasetRoot {
    public static func resolve(explicit: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let e = explicit, !e.isEmpty { return URL(fileURLWithPath: expandTilde(e), isDirectory: true) }
        if let e = environment["NTRAIN_DATA"], !e.isEmpty { return URL(fileURLWithPath: expandTilde(e), isDirectory: true) }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".cache/ntrain/datasets", isDirectory: true)
    }

    static func expandTilde(_ path: String) -> String { (path as NSString).expandingTildeInPath }
}
