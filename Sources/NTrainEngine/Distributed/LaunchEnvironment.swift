import Foundation

/// What the process launcher says about this process: its rank and the world size, read from the
/// variables that Open MPI's mpirun (`OMPI_COMM_WORLD_*`), MPICH's Hydra and PMI launchers
/// (`PMI_RANK`, `PMI_SIZE`) and Slurm's srun (`SLURM_PROCID`, `SLURM_NTASKS`) set. Before MPI is initialised this is
/// the only way to know that a process is one of several, so that a missing MPI is an error and
/// not N independent runs writing the same folder.
public struct LaunchEnvironment: Equatable, Sendable {
    /// The rank the launcher gave this process (0 when not launched as a rank).
    public let rank: Int
    /// The number of ranks (1 when not launched by an MPI launcher).
    public let worldSize: Int
    /// The variable the values came from (nil when none is set).
    public let source: String?

    public init(rank: Int, worldSize: Int, source: String?) {
        self.rank = rank
        self.worldSize = worldSize
        self.source = source
    }

    /// Reads the launcher's variables from `environment`.
    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        let pairs = [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")]
        for (rankName, sizeName) in pairs {
            if let size = environment[sizeName].flatMap({ Int($0) }), size >= 1 {
                let rank = environment[rankName].flatMap { Int($0) } ?? 0
                self.init(rank: rank, worldSize: size, source: sizeName)
                return
            }
        }
        self.init(rank: 0, worldSize: 1, source: nil)
    }

    /// Whether this process is one of several: MPI is then required.
    public var isDistributed: Bool { worldSize > 1 }
}
