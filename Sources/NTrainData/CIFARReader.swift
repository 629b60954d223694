import Foundation

/// Reader for the CIFAR-10 binary version: batches of 3,073-byte records (one label byte, then
/// 1,024 red, 1,024 green and 1,024 blue bytes, row-major 32×32), which is already `[C, H, W]`.
public enum CIFARReader {
    public static let recordSize = 3073
    public static let imageSize = 3072
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    /// The official test batch. Where only the first 1,000 test records are available (the local
    /// mirror ships `test_batch.first1000.bin`), that file is used instead and the dataset says so
    /// in `notes`: accuracy on it is not comparable with published test accuracy.
    public static let testFiles = ["test_batch.bin", "test_batch.first1000.bin"]
    public static let defaultClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]

    /// Records in each official batch file: 10,000, and 1,000 in the mirror's partial test batch.
    public static func expectedRecords(file: String) -> Int? {
        if file == "test_batch.first1000.bin" { return 1000 }
        return trainFiles.contains(file) || file == testFiles[0] ? 10_000 : nil
    }

    /// Reads one batch file: images `[n, 3, 32, 32]` bytes and labels. With `expectedRecords`, the
    /// file's size is checked before anything is read, so a wrong or huge file is refused at once.
    public static func readBatch(path: String, expectedRecords: Int? = nil) throws -> (images: [UInt8], labels: [Int32]) {
        if let expectedRecords {
            // stat(2) follows symbolic links (a dataset root of links to a shared copy), unlike
            // FileManager.attributesOfItem, which reports the link itself.
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw DatasetError.io(path: path, reason: "cannot read its size: \(String(cString: strerror(errno)))")
            }
            let size = Int(info.st_size)
            guard size == expectedRecords * recordSize else {
                let records = size % recordSize == 0 ? "\(size / recordSize) records" : "not a whole number of \(recordSize)-byte records"
                throw DatasetError.invalidCIFAR(path: path, reason: "is \(size) bytes (\(records)); a CIFAR-10 batch file holds \(expectedRecords) "
                    + "records of \(recordSize) bytes (\(expectedRecords * recordSize) bytes). Delete it and run `ntrain download cifar10` again")
            }
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw DatasetError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try parseBatch(data, name: path)
    }

    /// Parses a batch from memory; `name` is used in error messages.
    public static func parseBatch(_ data: Data, name: String) throws -> (images: [UInt8], labels: [Int32]) {
        guard !data.isEmpty else { throw DatasetError.invalidCIFAR(path: name, reason: "file is empty") }
        guard data.count % recordSize == 0 else {
            throw DatasetError.invalidCIFAR(path: name, reason: "size \(data.count) is not a multiple of the \(recordSize)-byte record "
                + "(\(data.count / recordSize) whole records and \(data.count % recordSize) extra bytes; truncated or not the binary version)")
        }
        let n = data.count / recordSize
        var images = [UInt8](repeating: 0, count: n * imageSize)
        var labels = [Int32](repeating: 0, count: n)
        try data.withUnsafeBytes { raw in
            let src = raw.bindMemory(to: UInt8.self)
            try images.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let label = src[i * recordSize]
                    guard label < 10 else {
                        throw DatasetError.invalidCIFAR(path: name, reason: "record \(i) (byte offset \(i * recordSize)) has label \(label), expected 0...9")
                    }
                    labels[i] = Int32(label)
                    UnsafeMutableRawPointer(dst.baseAddress! + i * imageSize)
                        .copyMemory(from: src.baseAddress! + i * recordSize + 1, byteCount: imageSize)
                }
            }
        }
        return (images, labels)
    }

    /// Reads `batches.meta.txt`: one class name per line, blank lines ignored; exactly 10 names.
    public static func readClassNames(path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.io(path: path, reason: "cannot read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.invalidCIFAR(path: path, reason: "class-name list is not UTF-8 text")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard names.count == 10 else {
            throw DatasetError.invalidCIFAR(path: path, reason: "expected 10 class names, one per line, found \(names.count)")
        }
        return names
    }

    /// Loads a split from a folder holding the extracted batches (and `batches.meta.txt`, whose
    /// names are used when present; otherwise the standard names).
    public static func load(folder: String, split: DatasetSplit) throws -> ImageDataset {
        let fm = FileManager.default
        let metaPath = (folder as NSString).appendingPathComponent("batches.meta.txt")
        let classNames = fm.fileExists(atPath: metaPath) ? try readClassNames(path: metaPath) : defaultClassNames
        var files: [String] = []
        var notes: [String] = []
        let hint = "Run `ntrain download cifar10` (add --root DIR or set NTRAIN_DATA to use another dataset root)."
        switch split {
        case .train:
            for f in trainFiles {
                let p = (folder as NSString).appendingPathComponent(f)
                guard fm.fileExists(atPath: p) else { throw DatasetError.missingFile(path: p, hint: hint) }
                files.append(p)
            }
        case .test:
            guard let f = testFiles.first(where: { fm.fileExists(atPath: (folder as NSString).appendingPathComponent($0)) }) else {
                throw DatasetError.missingFile(path: (folder as NSString).appendingPathComponent(testFiles[0]), hint: hint)
            }
            if f != testFiles[0] {
                notes.append("CIFAR-10 test split read from \(f): a partial test set, not the official 10,000 images")
            }
            files.append((folder as NSString).appendingPathComponent(f))
        }
        var images: [UInt8] = []
        var labels: [Int32] = []
        for f in files {
            let batch = try readBatch(path: f, expectedRecords: expectedRecords(file: (f as NSString).lastPathComponent))
            images += batch.images
            labels += batch.labels
        }
        return ImageDataset(name: "cifar10/\(split.rawValue)", images: images, labels: labels, channels: 3,
                            height: 32, width: 32, classNames: classNames, notes: notes)
    }
}
