/// What can go wrong when a run spans several processes.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// A launcher started this process as one of several ranks, but no usable MPI library loads.
    case noMPI(worldSize: Int, reasons: [String])
    /// The library loaded but is not one whose ABI ntrain knows (Open MPI).
    case unsupportedMPI(library: String, version: String)
    /// An MPI call returned an error code.
    case call(String, code: Int32)
    /// The launcher's world size and MPI's disagree (a launcher of another MPI than the one loaded).
    case worldMismatch(launcher: Int, mpi: Int)
    /// Something the data-parallel run cannot do (yet).
    case unsupported(String)

    public var description: String {
        switch self {
        case let .noMPI(size, reasons):
            return "this process was started as one of \(size) MPI ranks, but no MPI library could be loaded ("
                + reasons.joined(separator: "; ")
                + "); install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev), or run ntrain without mpirun"
        case let .unsupportedMPI(library, version):
            return "\(library) is not Open MPI (\(version)); ntrain's data-parallel training uses Open MPI 4 or 5: launch it with Open MPI's mpirun"
        case let .call(name, code):
            return "\(name) failed with MPI error \(code)"
        case let .worldMismatch(launcher, mpi):
            return "the launcher started \(launcher) ranks but MPI sees a world of \(mpi): launch ntrain with the mpirun of the MPI it loads (Open MPI)"
        case .unsupported(let what):
            return what
        }
    }

    /// 2 for a setup the user can fix, 1 for a failure while running.
    public var exitCode: Int32 {
        switch self {
        case .call: return 1
        default: return 2
        }
    }
}
