extension Kernels {
    /// Class indices of an int32 or int64 tensor as Int, checked against `classes`.
    static func classIndices(_ t: Tensor, classes: Int, op: String) -> [Int] {
        let n = t.count
        var out = [Int](repeating: 0, count: n)
        switch t.dtype {
        case .int32:
            let p = t.int32Data
            for i in 0..<n { out[i] = Int(p[i]) }
        case .int64:
            let p = t.int64Data
            for i in 0..<n { out[i] = Int(p[i]) }
        default:
            preconditionFailure("\(op): class indices must be int32 or int64, got \(t.dtype)")
        }
        for (i, c) in out.enumerated() {
            precondition(c >= 0 && c < classes, "\(op): class index \(c) at position \(i) is outside 0..<\(classes)")
        }
        return out
    }
}

extension Tensor {
    /// For scores [N, C] and int32 class indices [N], the score of each row's class: out[n] = self[n, idx[n]].
    public func gathered(classIndices: Tensor) -> Tensor {
        precondition(rank == 2 && classIndices.rank == 1 && classIndices.shape[0] == shape[0],
                     "gathered: needs scores [N, C] and indices [N], got \(shape) and \(classIndices.shape)")
        let idx = Kernels.classIndices(classIndices.to(.cpu), classes: shape[1], op: "gathered")
        return recording("gather", inputs: [self], backend.gatherRows(self, classes: idx))
    }

    /// One-hot float encoding of int32 (or int64) class indices: shape `self.shape + [classes]`.
    /// Not differentiable.
    public func oneHot(classes: Int) -> Tensor {
        precondition(classes > 0, "oneHot: classes must be positive, got \(classes)")
        let idx = Kernels.classIndices(to(.cpu), classes: classes, op: "oneHot")
        let rows = backend.oneHot(idx, classes: classes, device: device)
        return Tensor(sharing: rows.storage, shape: Shape(shape.dims + [classes]), dtype: .float32)
    }
}
