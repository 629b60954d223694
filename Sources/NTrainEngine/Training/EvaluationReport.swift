import Foundation

/// Text and JSON renderings of a `CheckpointEvaluation` (what `ntrain eval` prints).
public enum EvaluationReport {
    public static func json(_ e: CheckpointEvaluation) -> JSONValue {
        var o: [String: JSONValue] = [
            "checkpoint": .string(e.checkpoint), "split": .string(e.split.rawValue), "examples": .integer(Int64(e.examples)),
            "device": .string(e.device.description), "seconds": .double(e.seconds), "loss": .double(e.result.loss),
            "tta": .string(e.tta.rawValue),
        ]
        switch e.result {
        case .classification(let m):
            o["accuracy"] = .double(m.accuracy)
            if m.topK == 5 { o["top5_accuracy"] = .double(m.topKAccuracy) }
            o["per_class_accuracy"] = .array(m.perClassAccuracy.enumerated().map { k, acc in
                .object(["class": .integer(Int64(k)), "name": .string(k < e.classNames.count ? e.classNames[k] : String(k)),
                         "accuracy": acc.isNaN ? .null : .double(acc)])
            })
            o["confusion_matrix"] = .array((0..<m.classes).map { r in
                .array((0..<m.classes).map { .integer(Int64(m.confusion[r * m.classes + $0])) })
            })
        case .regression(let m):
            o["mse"] = .double(m.mse)
            o["mae"] = .double(m.mae)
            o["rmse"] = .double(m.rmse)
        }
        return .object(o)
    }

    public static func text(_ e: CheckpointEvaluation) -> String {
        var s = "checkpoint  \(e.checkpoint)\n"
        s += "split       \(e.split.rawValue) (\(e.examples) examples) on \(e.device), \(String(format: "%.2f", e.seconds)) s\n"
        if e.tta != .none { s += "tta         \(e.tta.rawValue) (each image's logits averaged with its mirror image's)\n" }
        for note in e.notes { s += "note        \(note)\n" }
        switch e.result {
        case .classification(let m):
            s += String(format: "loss        %.4f\naccuracy    %.2f%%\n", m.loss, m.accuracy * 100)
            if m.topK == 5 { s += String(format: "top-5       %.2f%%\n", m.topKAccuracy * 100) }
            s += "\nper-class accuracy:\n"
            let width = max(5, e.classNames.map(\.count).max() ?? 0)
            for (k, acc) in m.perClassAccuracy.enumerated() {
                let name = k < e.classNames.count ? e.classNames[k] : String(k)
                let total = (0..<m.classes).reduce(0) { $0 + m.confusion[k * m.classes + $1] }
                s += "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + (acc.isNaN ? "      -" : String(format: "  %6.2f%%", acc * 100)) + "  (\(total))\n"
            }
            s += "\nconfusion matrix (rows: true class, columns: predicted):\n"
            let cell = max(4, String(m.confusion.max() ?? 0).count + 1)
            s += String(repeating: " ", count: 6) + (0..<m.classes).map { pad(String($0), cell) }.joined() + "\n"
            for r in 0..<m.classes {
                s += pad(String(r), 4) + "  " + (0..<m.classes).map { pad(String(m.confusion[r * m.classes + $0]), cell) }.joined() + "\n"
            }
        case .regression(let m):
            s += String(format: "loss        %.6f\nmse         %.6f\nmae         %.6f\nrmse        %.6f\n", e.result.loss, m.mse, m.mae, m.rmse)
        }
        return s
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
