import NTrainCore
import NTrainNN

/// Averages the gradients of a model's parameters over the ranks of a group, as PyTorch's
/// DistributedDataParallel does: the parameters are laid out in buckets of about `bucketBytes`
/// in reverse order (the order backward produces them), each bucket is copied into one flat
/// buffer, summed in place with a non-blocking allreduce while the next bucket is packed, then
/// copied back scaled by 1/size.
///
/// The buckets are fixed when the averager is made, so every rank sums the same layout; a
/// parameter without a gradient on some rank contributes zeros and receives the average.
final class GradientAverager {
    /// PyTorch DDP's default `bucket_cap_mb`.
    static let defaultBucketBytes = 25 << 20

    private let group: any ProcessGroup
    private let parameters: [Tensor]
    /// Indices into `parameters`, bucket by bucket.
    let buckets: [[Int]]
    private var buffers: [UnsafeMutableBufferPointer<Float>]

    init(parameters: [Tensor], group: any ProcessGroup, bucketBytes: Int = defaultBucketBytes) {
        self.group = group
        self.parameters = parameters
        var buckets: [[Int]] = []
        var current: [Int] = []
        var bytes = 0
        for index in parameters.indices.reversed() {
            let size = parameters[index].count * MemoryLayout<Float>.size
            if !current.isEmpty && bytes + size > bucketBytes {
                buckets.append(current)
                current = []
                bytes = 0
            }
            current.append(index)
            bytes += size
        }
        if !current.isEmpty { buckets.append(current) }
        self.buckets = buckets
        // One process keeps no second copy of the gradients.
        buffers = group.size == 1 ? [] : buckets.map { bucket in
            let count = bucket.reduce(0) { $0 + parameters[$1].count }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            buffer.initialize(repeating: 0)
            return buffer
        }
    }

    deinit { buffers.forEach { $0.deallocate() } }

    /// Replaces every parameter's gradient by its mean over the ranks (nothing with one rank).
    func average() throws {
        guard group.size > 1 else { return }
        try group.sumInBuckets(count: buckets.count) { b in
            let buffer = buffers[b]
            var offset = 0
            for index in buckets[b] {
                let p = parameters[index]
                let n = p.count
                if let g = p.grad {
                    (buffer.baseAddress! + offset).update(from: g.data, count: n)
                } else {
                    (buffer.baseAddress! + offset).update(repeating: 0, count: n)
                }
                offset += n
            }
            return buffer
        }
        let scale = 1 / Float(group.size)
        for (b, bucket) in buckets.enumerated() {
            let buffer = buffers[b]
            var offset = 0
            for index in bucket {
                let p = parameters[index]
                let n = p.count
                if p.grad == nil { p.grad = Tensor.zeros(p.shape) }
                let g = p.grad!.data
                let source = buffer.baseAddress! + offset
                for j in 0..<n { g[j] = source[j] * scale }
                offset += n
            }
        }
    }

    /// Copies `tensors` (parameters and buffers) from rank 0 to every rank.
    static func broadcast(_ tensors: [Tensor], group: any ProcessGroup) throws {
        guard group.size > 1 else { return }
        for t in tensors where t.dtype == .float32 {
            try group.broadcast(UnsafeMutableBufferPointer(start: t.data, count: t.count), from: 0)
        }
    }
}
