import Foundation
import NTrainCore

/// Builds an in-memory `ImageDataset` from image files (PNG, JPEG, PGM), as `image_folder` and
/// `image_csv` read them: each image converted to `channels` (nil: the first image's), an alpha
/// channel dropped (PIL's `convert`), and resized to `size` (height, width) with antialiased bilinear
/// interpolation when given; without `size` every image must have the first one's size.
public enum ImageFiles {
    /// Largest dataset held in memory (bytes of uint8 pixels).
    public static let maxBytes = 1 << 34

    public static func load(_ files: [(path: String, label: Int32)], channels: Int?, size: (height: Int, width: Int)?,
                            name: String, classNames: [String]) throws -> ImageDataset {
        guard !files.isEmpty else { throw DatasetError.invalidParameter(name: name, reason: "there are no images") }
        var pixels: [UInt8] = []
        var shape: (c: Int, h: Int, w: Int)?
        for file in files {
            var image = try ImageDecoder.decode(path: file.path, dropAlpha: true)
            let c = shape?.c ?? channels ?? image.channels
            guard let converted = image.converted(toChannels: c) else {
                throw DatasetError.invalidImage(path: file.path, reason: "\(image.channels) channels cannot become \(c)")
            }
            image = converted
            if let size { image = image.resized(height: size.height, width: size.width) }
            if let s = shape {
                guard s.h == image.height, s.w == image.width else {
                    throw DatasetError.invalidImage(path: file.path, reason: "it is \(image.width)x\(image.height) but \(files[0].path) is \(s.w)x\(s.h); "
                        + "all images must have the same size, or add {\"resize\": [H, W]} to data.transforms to resize them as they are read")
                }
            } else {
                shape = (image.channels, image.height, image.width)
                let (total, overflow) = files.count.multipliedReportingOverflow(by: image.pixels.count)
                guard !overflow, total <= maxBytes else {
                    throw DatasetError.invalidParameter(name: name, reason: "\(files.count) images of \(image.channels)x\(image.height)x\(image.width) "
                        + "do not fit the \(maxBytes >> 30) GiB in-memory limit; resize them smaller")
                }
                pixels.reserveCapacity(files.count * image.pixels.count)
            }
            pixels += image.pixels
        }
        let s = shape!
        return ImageDataset(name: name, images: pixels, labels: files.map(\.label), channels: s.c, height: s.h, width: s.w,
                            classNames: classNames)
    }
}

extension ImageFiles {
    /// The image files (.png, .jpg, .jpeg, .pgm, any case) anywhere below `folder`, as paths relative
    /// to it, sorted.
    public static func relativePaths(in folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? [])
            .filter { ImageDecoder.fileExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted()
    }
}

/// `image_folder`: torchvision's `ImageFolder` layout, one subfolder per class (class names are the
/// subfolder names, sorted; index = position), images anywhere below each (.png, .jpg, .jpeg, .pgm,
/// sorted by path; other files and hidden folders are skipped).
public enum ImageFolderDataset {
    public static func load(folder: String, channels: Int?, size: (height: Int, width: Int)?,
                            classNames expected: [String]? = nil) throws -> ImageDataset {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError.missingFile(path: folder, hint: "image_folder needs a folder with one subfolder of images per class (data.path, data.test_path)")
        }
        let classes = try fm.contentsOfDirectory(atPath: folder).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: (folder as NSString).appendingPathComponent(name), isDirectory: &d) && d.boolValue
        }.sorted()
        guard !classes.isEmpty else {
            throw DatasetError.invalidParameter(name: "image_folder", reason: "\(folder) has no class subfolders; put each class's images in a folder named after it")
        }
        if let expected, expected != classes {
            let missing = expected.filter { !classes.contains($0) }, extra = classes.filter { !expected.contains($0) }
            throw DatasetError.invalidParameter(name: "image_folder", reason: "\(folder) has other classes than the training folder"
                + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))") + (extra.isEmpty ? "" : "; not in training: \(extra.joined(separator: ", "))"))
        }
        var files: [(path: String, label: Int32)] = []
        for (label, name) in classes.enumerated() {
            let classFolder = (folder as NSString).appendingPathComponent(name)
            let found = ImageFiles.relativePaths(in: classFolder).filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }
            guard !found.isEmpty else {
                throw DatasetError.invalidParameter(name: "image_folder", reason: "class folder \(classFolder) holds no .png, .jpg, .jpeg or .pgm files")
            }
            files += found.map { ((classFolder as NSString).appendingPathComponent($0), Int32(label)) }
        }
        return try ImageFiles.load(files, channels: channels, size: size, name: "image_folder", classNames: classes)
    }
}

extension ImageDataset {
    /// Every image resized to `height` x `width` (antialiased bilinear, as `DecodedImage.resized`).
    public func resized(height h: Int, width w: Int) -> ImageDataset {
        if h == height && w == width { return self }
        var out: [UInt8] = []
        out.reserveCapacity(count * channels * h * w)
        for i in 0..<count {
            let image = DecodedImage(channels: channels, height: height, width: width,
                                     pixels: Array(images[(i * sampleSize)..<((i + 1) * sampleSize)]))
            out += image.resized(height: h, width: w).pixels
        }
        return ImageDataset(name: name, images: out, labels: labels, channels: channels, height: h, width: w, classNames: classNames, notes: notes)
    }

    /// The samples in a random order drawn from `seed` (so a held-out fraction of a dataset stored
    /// class by class takes every class).
    public func shuffled(seed: UInt64) -> ImageDataset {
        var generator = RandomGenerator(seed: seed)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, generator.int(below: i + 1)) }
        var out = [UInt8](repeating: 0, count: images.count)
        for (to, from) in order.enumerated() {
            out[(to * sampleSize)..<((to + 1) * sampleSize)] = images[(from * sampleSize)..<((from + 1) * sampleSize)]
        }
        return ImageDataset(name: name, images: out, labels: order.map { labels[$0] }, channels: channels, height: height, width: width,
                            classNames: classNames, notes: notes)
    }
}
