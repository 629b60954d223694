import NTrainCore

/// One row of a model summary: a module's dotted name, its description, output shape and
/// parameter count.
public struct ModelSummaryRow: Equatable, Sendable {
    public var name: String
    public var layer: String
    public var output: Shape
    public var parameters: Int
}

extension Module {
    /// The summary of any module for a batch of shape `input`: a `Sequential`'s layers one row each,
    /// nested `Sequential`s (a ResNet stage, a `repeat`) opened with dotted names (`layer1.0`),
    /// and every other module, blocks included, as one row with its description.
    public func summaryRows(input: Shape) throws -> [ModelSummaryRow] {
        var rows: [ModelSummaryRow] = []
        _ = try appendRows(to: &rows, name: "", input: input)
        return rows
    }

    private func appendRows(to rows: inout [ModelSummaryRow], name: String, input: Shape) throws -> Shape {
        guard let sequential = self as? Sequential else {
            let output = try outputShape(for: input)
            rows.append(ModelSummaryRow(name: name, layer: summary, output: output, parameters: parameterCount))
            return output
        }
        var shape = input
        for (local, layer) in sequential.layers {
            shape = try layer.appendRows(to: &rows, name: name.isEmpty ? local : name + "." + local, input: shape)
        }
        return shape
    }
}
