import Foundation

/// The ranks of a data-parallel run, as the Trainer sees them (DESIGN §10): who this process is,
/// and the few collectives it needs. `SingleProcess` is the one-process case and costs nothing;
/// `MPIProcessGroup` runs them on MPI.
///
/// Every rank must make the same calls in the same order, like MPI's collectives themselves.
public protocol ProcessGroup: AnyObject {
    /// This process's rank, 0 ..< size; rank 0 owns the run folder.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// What the group runs on, for reports ("single process", "Open MPI v4.1.4 (libmpi.so.40)").
    var summary: String { get }
    /// Replaces `values` on every rank by their elementwise sum over the ranks.
    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// The same for float64 (metrics and flags).
    func sum(_ values: inout [Double]) throws
    /// Sums `count` buffers, each produced by `pack(i)` just before its sum starts, so packing
    /// buffer i+1 overlaps the sum of buffer i; returns when every sum is complete.
    func sumInBuckets(count: Int, pack: (Int) -> UnsafeMutableBufferPointer<Float>) throws
    /// Copies `values` from `root` to every other rank.
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws
    /// Ends this rank's part in the group (MPI_Finalize); called once, by every rank.
    func finish()
    /// Stops every rank at once with `code` (MPI_Abort): for a failure on one rank that the
    /// others cannot know about.
    func abort(code: Int32) -> Never
}

extension ProcessGroup {
    /// Whether this rank writes the run folder and talks to the user.
    public var isLeader: Bool { rank == 0 }
}

/// One process: every collective is the identity.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var summary: String { "single process" }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func sum(_ values: inout [Double]) throws {}
    public func sumInBuckets(count: Int, pack: (Int) -> UnsafeMutableBufferPointer<Float>) throws {
        for i in 0..<count { _ = pack(i) }
    }
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws {}
    public func finish() {}
    public func abort(code: Int32) -> Never { exit(code) }
}

/// Joins the group the launcher started this process in.
public enum ProcessGroups {
    /// A `MPIProcessGroup` when a launcher started this process as one of several ranks (or as
    /// the only one, where MPI loads); `SingleProcess` otherwise. Several ranks without a usable
    /// MPI is an error, never N independent runs.
    public static func join(_ launch: LaunchEnvironment = LaunchEnvironment(),
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any ProcessGroup {
        guard launch.source != nil else { return SingleProcess() }
        let library: MPILibrary
        do {
            library = try MPILibrary(names: MPILibrary.names(environment: environment))
        } catch {
            // A launcher's only rank runs as one process; several ranks need MPI.
            guard launch.isDistributed else { return SingleProcess() }
            if case DistributedError.noMPI(_, let reasons) = error { throw DistributedError.noMPI(worldSize: launch.worldSize, reasons: reasons) }
            throw error
        }
        let group = try MPIProcessGroup(library: library)
        if group.size != launch.worldSize {
            group.finish()
            throw DistributedError.worldMismatch(launcher: launch.worldSize, mpi: group.size)
        }
        return group
    }

    /// The MPI library this machine would use and its version, without initialising it (for
    /// `ntrain devices`); the reason where none loads.
    public static func probe(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (library: String?, version: String?, problem: String?) {
        do {
            let library = try MPILibrary(names: MPILibrary.names(environment: environment))
            return (library.name, library.version, nil)
        } catch let DistributedError.noMPI(_, reasons) {
            return (nil, nil, "no MPI library: " + reasons.joined(separator: "; "))
        } catch {
            return (nil, nil, "\(error)")
        }
    }
}
