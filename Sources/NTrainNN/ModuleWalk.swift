import NTrainCore

extension Module {
    /// Calls `visit` for every module under this one that computes (everything but `Sequential`
    /// and `Branches`), with its dotted name and the shape it receives for a batch of `input`: a
    /// Sequential's layers in order, every path of a Branches from the block's input, then the
    /// block's activation on the merged shape. Returns the output shape.
    @discardableResult
    public func walkLayers(input: Shape, name: String = "", _ visit: (_ name: String, _ layer: Module, _ input: Shape) throws -> Void) throws -> Shape {
        func child(_ local: String) -> String { name.isEmpty ? local : name + "." + local }
        if let sequential = self as? Sequential {
            var shape = input
            for (local, layer) in sequential.layers { shape = try layer.walkLayers(input: shape, name: child(local), visit) }
            return shape
        }
        if let branches = self as? Branches {
            let shapes = try zip(branches.pathNames, branches.paths).map { try $1.walkLayers(input: input, name: child($0), visit) }
            let merged = try Branches.merged(shapes, merge: branches.merge, names: branches.pathNames)
            guard let activation = branches.activation else { return merged }
            try visit(child("activation"), activation, merged)
            return try activation.outputShape(for: merged)
        }
        try visit(name, self, input)
        return try outputShape(for: input)
    }
}
