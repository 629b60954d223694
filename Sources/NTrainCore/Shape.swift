/// The extent of each dimension of a row-major tensor.
public struct Shape: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var dims: [Int]

    public init(_ dims: [Int]) {
        precondition(dims.allSatisfy { $0 >= 0 }, "negative dimension in shape \(dims)")
        self.dims = dims
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    public var rank: Int { dims.count }
    /// Number of elements (1 for a scalar).
    public var count: Int { dims.reduce(1, *) }
    public subscript(i: Int) -> Int { dims[i] }

    /// Row-major (contiguous) strides in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        var acc = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= dims[i]
        }
        return s
    }

    /// Resolves a possibly negative axis (-1 = last) to 0..<rank.
    public func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) out of range for shape \(self)")
        return r
    }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }

    /// NumPy broadcasting of two shapes, or nil when incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let r = max(a.rank, b.rank)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.rank ? 1 : a.dims[i - (r - a.rank)]
            let db = i < r - b.rank ? 1 : b.dims[i - (r - b.rank)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return Shape(out)
    }

    /// Strides for reading a tensor of this shape as if it had `target` shape (0 on broadcast dims).
    public func broadcastStrides(to target: Shape) -> [Int] {
        let own = strides
        let offset = target.rank - rank
        var s = [Int](repeating: 0, count: target.rank)
        for i in 0..<rank where dims[i] != 1 {
            s[i + offset] = own[i]
        }
        return s
    }
}
