import Foundation

/// `image_csv`: a CSV file of `path,label` rows (an optional header row is skipped), paths relative
/// to the CSV's folder unless absolute. Images are PNG, JPEG or PGM, read as `ImageFiles` does
/// (`channels`, `size`); labels are class indices 0..<classes.
public enum ImageCSVDataset {
    public static func load(csvPath: String, classes: Int? = nil, channels: Int? = nil, size: (height: Int, width: Int)? = nil) throws -> ImageDataset {
        guard let data = FileManager.default.contents(atPath: csvPath) else {
            throw DatasetError.missingFile(path: csvPath, hint: "Check data.csv in the config (relative paths are resolved from the working directory).")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.invalidCSV(path: csvPath, line: 1, reason: "the file is not UTF-8 text")
        }
        let folder = (csvPath as NSString).deletingLastPathComponent
        var files: [(path: String, label: Int32)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let comma = line.lastIndex(of: ",") else {
                throw DatasetError.invalidCSV(path: csvPath, line: lineNo, reason: "expected 'path,label', found '\(line)'")
            }
            let pathField = line[..<comma].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            let labelField = line[line.index(after: comma)...].trimmingCharacters(in: .whitespaces)
            guard let label = Int32(labelField) else {
                if files.isEmpty { continue }  // header row
                throw DatasetError.invalidCSV(path: csvPath, line: lineNo, reason: "label '\(labelField)' is not an integer class index")
            }
            guard label >= 0, classes.map({ Int(label) < $0 }) ?? true else {
                throw DatasetError.invalidCSV(path: csvPath, line: lineNo, reason: "label \(label) is outside 0..<\(classes ?? 0)")
            }
            let path = pathField.hasPrefix("/") ? pathField : (folder as NSString).appendingPathComponent(pathField)
            guard FileManager.default.fileExists(atPath: path) else {
                throw DatasetError.invalidCSV(path: csvPath, line: lineNo, reason: "image \(path) does not exist")
            }
            files.append((path, label))
        }
        guard !files.isEmpty else {
            throw DatasetError.invalidCSV(path: csvPath, line: 1, reason: "no image rows ('path,label')")
        }
        let classCount = classes ?? Int(files.map(\.label).max()! + 1)
        return try ImageFiles.load(files, channels: channels, size: size, name: "image_csv", classNames: (0..<classCount).map(String.init))
    }
}
