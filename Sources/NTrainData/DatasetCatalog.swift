import Foundation

/// The built-in datasets that `ntrain download` knows how to fetch and verify.
public enum DatasetKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case mnist
    case fashionMNIST = "fashion-mnist"
    case cifar10

    /// The folder under the dataset root (`<root>/mnist`, `<root>/fashion-mnist`, `<root>/cifar10`).
    public var folderName: String { rawValue }

    public var description: String { rawValue }

    /// Parses a user-facing name (case-insensitive; `fashion_mnist`, `cifar-10` also accepted).
    public init?(name: String) {
        switch name.lowercased() {
        case "mnist": self = .mnist
        case "fashion-mnist", "fashion_mnist", "fashionmnist": self = .fashionMNIST
        case "cifar10", "cifar-10", "cifar_10": self = .cifar10
        default: return nil
        }
    }

    /// The official checksums and download locations.
    public var spec: DatasetSpec {
        switch self {
        case .mnist: return DatasetCatalog.mnist
        case .fashionMNIST: return DatasetCatalog.fashionMNIST
        case .cifar10: return DatasetCatalog.cifar10
        }
    }
}

/// One file a dataset consists of, with the checksums it may be accepted under.
public struct KnownFile: Sendable, Equatable {
    /// File name in the dataset folder and on the servers.
    public let name: String
    /// The official md5 of the file as published (for .gz files, of the compressed bytes).
    public let md5: String
    /// For .gz files: the md5 of the decompressed content, so a re-compressed copy (e.g. Debian's) is accepted.
    public let contentMD5: String?
    /// The official size in bytes, when known (used for progress totals only).
    public let size: Int64?

    public init(name: String, md5: String, contentMD5: String? = nil, size: Int64? = nil) {
        self.name = name
        self.md5 = md5
        self.contentMD5 = contentMD5
        self.size = size
    }
}

/// Where a dataset comes from and what its files must hash to.
public struct DatasetSpec: Sendable {
    public let kind: DatasetKind
    /// Files that must end up in the dataset folder.
    public let files: [KnownFile]
    /// An archive that holds `files` (CIFAR-10's tar.gz), tried before the loose files at each source.
    public let archive: KnownFile?
    /// The folder inside the archive that holds the members (`cifar-10-batches-bin/`).
    public let archiveMemberPrefix: String
    /// Files that are needed but whose content is validated by the reader instead of a checksum.
    public let unverifiedFiles: [String]
    /// Base URLs of the official hosts, tried last.
    public let officialBases: [URL]
    /// System-wide copies (Debian packages), tried after mirrors and before the network.
    public let systemFolders: [String]
    /// Sub-folders tried inside a mirror, besides its top level (so one mirror can hold every dataset).
    public let mirrorSubfolders: [String]
}

/// The built-in checksum table. Archive md5s are the publishers' own; the content md5s were computed
/// from the official files (they equal the md5 of `gunzip -c FILE`).
public enum DatasetCatalog {
    public static let mnist = DatasetSpec(
        kind: .mnist,
        files: [
            KnownFile(name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                      contentMD5: "6bbc9ace898e44ae57da46a324031adb", size: 9_912_422),
            KnownFile(name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432",
                      contentMD5: "a25bea736e30d166cdddb491f175f624", size: 28_881),
            KnownFile(name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3",
                      contentMD5: "2646ac647ad5339dbf082846283269ea", size: 1_648_877),
            KnownFile(name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c",
                      contentMD5: "27ae3e4e09519cfbb04c329615203637", size: 4_542),
        ],
        archive: nil, archiveMemberPrefix: "", unverifiedFiles: [],
        officialBases: [URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!],
        systemFolders: [],
        mirrorSubfolders: ["", "mnist/"])

    public static let fashionMNIST = DatasetSpec(
        kind: .fashionMNIST,
        files: [
            KnownFile(name: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                      contentMD5: "f4a8712d7a061bf5bd6d2ca38dc4d50a", size: 26_421_880),
            KnownFile(name: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe",
                      contentMD5: "9018921c3c673c538a1fc5bad174d6f9", size: 29_515),
            KnownFile(name: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79",
                      contentMD5: "8181f5470baa50b63fa0f6fddb340f0a", size: 4_422_102),
            KnownFile(name: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310",
                      contentMD5: "15d484375f8d13e6eb1aabb0c3f46965", size: 5_148),
        ],
        archive: nil, archiveMemberPrefix: "", unverifiedFiles: [],
        officialBases: [URL(string: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")!],
        systemFolders: ["/usr/share/datasets/fashion-mnist"],
        mirrorSubfolders: ["", "fashion-mnist/"])

    public static let cifar10 = DatasetSpec(
        kind: .cifar10,
        files: [
            KnownFile(name: "data_batch_1.bin", md5: "5dd7e06a14cb22eb9f671a540d1b7c25", size: 30_730_000),
            KnownFile(name: "data_batch_2.bin", md5: "5ea93a67294ea407fff1d09f752e9692", size: 30_730_000),
            KnownFile(name: "data_batch_3.bin", md5: "942cd6a4bcdd0dd3c604fbe906cb4421", size: 30_730_000),
            KnownFile(name: "data_batch_4.bin", md5: "ae636b3ba5c66a11e91e8cb52e771fcb", size: 30_730_000),
            KnownFile(name: "data_batch_5.bin", md5: "53f37980c15c3d472c316c40844f3f0d", size: 30_730_000),
            KnownFile(name: "test_batch.bin", md5: "803d5f7f4d78ea53de84dbe85f74fb6d", size: 30_730_000),
        ],
        archive: KnownFile(name: "cifar-10-binary.tar.gz", md5: "c32a1d4ab5d03f1284b67883e8d87530", size: 170_052_171),
        archiveMemberPrefix: "cifar-10-batches-bin/",
        // The class-name list is checked by the reader (10 non-empty names), not by checksum.
        unverifiedFiles: ["batches.meta.txt"],
        officialBases: [URL(string: "https://www.cs.toronto.edu/~kriz/")!],
        systemFolders: [],
        mirrorSubfolders: ["", "cifar10/", "cifar-10-batches-bin/"])
}
