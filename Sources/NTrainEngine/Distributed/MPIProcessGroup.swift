import Foundation

/// The ranks of `MPI_COMM_WORLD`. MPI is initialised with `MPI_THREAD_FUNNELED`: only the
/// thread that created the group calls MPI. Errors are fatal inside Open MPI (its default
/// handler aborts the job), so a rank that dies takes the others down instead of leaving them
/// waiting in a collective.
public final class MPIProcessGroup: ProcessGroup {
    private let mpi: MPILibrary
    public let rank: Int
    public let size: Int
    private var finished = false

    init(library: MPILibrary) throws {
        mpi = library
        var already: Int32 = 0
        _ = mpi.initialized(&already)
        if already == 0 {
            var provided: Int32 = 0
            try MPILibrary.check(mpi.initThread(nil, nil, MPILibrary.threadFunneled, &provided), "MPI_Init_thread")
        }
        var value: Int32 = 0
        try MPILibrary.check(mpi.commRank(mpi.commWorld, &value), "MPI_Comm_rank")
        rank = Int(value)
        try MPILibrary.check(mpi.commSize(mpi.commWorld, &value), "MPI_Comm_size")
        size = Int(value)
    }

    public var summary: String { "\(mpi.version) (\(mpi.name)), \(size) ranks" }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        for (start, count) in Self.chunks(values.count) {
            try MPILibrary.check(mpi.allreduce(MPILibrary.inPlace, values.baseAddress! + start, count, mpi.float, mpi.sum, mpi.commWorld), "MPI_Allreduce")
        }
    }

    public func sum(_ values: inout [Double]) throws {
        guard !values.isEmpty else { return }
        let count = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { buffer in
            try MPILibrary.check(mpi.allreduce(MPILibrary.inPlace, buffer.baseAddress, count, mpi.double, mpi.sum, mpi.commWorld), "MPI_Allreduce")
        }
    }

    public func sumInBuckets(count: Int, pack: (Int) -> UnsafeMutableBufferPointer<Float>) throws {
        var requests = [UnsafeMutableRawPointer?]()
        requests.reserveCapacity(count)
        for i in 0..<count {
            let buffer = pack(i)
            for (start, n) in Self.chunks(buffer.count) {
                var request: UnsafeMutableRawPointer?
                try MPILibrary.check(mpi.iallreduce(MPILibrary.inPlace, buffer.baseAddress! + start, n, mpi.float, mpi.sum, mpi.commWorld, &request), "MPI_Iallreduce")
                requests.append(request)
            }
        }
        guard !requests.isEmpty else { return }
        let n = Int32(requests.count)
        try requests.withUnsafeMutableBufferPointer { buffer in
            try MPILibrary.check(mpi.waitall(n, buffer.baseAddress, nil), "MPI_Waitall")
        }
    }

    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws {
        for (start, count) in Self.chunks(values.count) {
            try MPILibrary.check(mpi.bcast(values.baseAddress! + start, count, mpi.float, Int32(root), mpi.commWorld), "MPI_Bcast")
        }
    }

    public func finish() {
        guard !finished else { return }
        finished = true
        var done: Int32 = 0
        _ = mpi.finalized(&done)
        if done == 0 { _ = mpi.finalize() }
    }

    public func abort(code: Int32) -> Never {
        _ = mpi.abort(mpi.commWorld, code)
        exit(code)
    }

    /// MPI counts are `int`: buffers beyond 2^31 - 1 elements go in pieces.
    static func chunks(_ count: Int) -> [(Int, Int32)] {
        let limit = Int(Int32.max)
        return stride(from: 0, to: count, by: limit).map { ($0, Int32(Swift.min(limit, count - $0))) }
    }
}
