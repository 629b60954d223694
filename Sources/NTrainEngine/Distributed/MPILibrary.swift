import Foundation

/// Open MPI, opened at run time: the handful of entry points and predefined handles that
/// data-parallel training uses.
///
/// ntrain does not link MPI, so that the one binary runs where no MPI is installed (like CUDA and
/// OpenBLAS). The handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, ...) are Open MPI's exported
/// globals, whose addresses its `mpi.h` uses as the handle values; MPICH encodes them as integers
/// instead, so only Open MPI's ABI is accepted (checked from `MPI_Get_library_version`).
final class MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>?) -> Int32
    typealias Flag = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
    typealias NoArguments = @convention(c) () -> Int32
    typealias CommInteger = @convention(c) (Handle, UnsafeMutablePointer<Int32>?) -> Int32
    typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    typealias Iallreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle,
                                            UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    typealias Waitall = @convention(c) (Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?) -> Int32
    typealias Bcast = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    typealias Barrier = @convention(c) (Handle) -> Int32
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    typealias LibraryVersion = @convention(c) (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32

    /// Sonames tried in order: Open MPI 3 to 5 (Debian's alternatives link), then the development link.
    static let defaultNames = ["libmpi.so.40", "libmpi.so"]

    /// `NTRAIN_MPI_LIBRARY` (a path or soname, for an MPI outside the loader's search path) alone
    /// when set, else the default sonames.
    static func names(environment: [String: String]) -> [String] {
        if let chosen = environment["NTRAIN_MPI_LIBRARY"], !chosen.isEmpty { return [chosen] }
        return defaultNames
    }
    /// `MPI_THREAD_FUNNELED`: only the main thread calls MPI (the worker pool never does).
    static let threadFunneled: Int32 = 1
    /// `MPI_IN_PLACE` in Open MPI's mpi.h.
    static let inPlace = UnsafeRawPointer(bitPattern: 1)

    let name: String
    /// `MPI_Get_library_version` up to its first comma ("Open MPI v4.1.4").
    let version: String
    let initThread: InitThread
    let initialized: Flag
    let finalized: Flag
    let finalize: NoArguments
    let commRank: CommInteger
    let commSize: CommInteger
    let allreduce: Allreduce
    let iallreduce: Iallreduce
    let waitall: Waitall
    let bcast: Bcast
    let barrier: Barrier
    let abort: Abort
    let commWorld: Handle
    let float: Handle
    let double: Handle
    let sum: Handle
    let max: Handle

    /// Opens the first Open MPI library found; throws with every dlopen error otherwise.
    init(names: [String] = defaultNames) throws {
        var errors: [String] = []
        var opened: (String, UnsafeMutableRawPointer)?
        for name in names {
            // RTLD_GLOBAL: Open MPI's own plugins resolve libmpi's symbols through the global scope.
            if let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) { opened = (name, handle); break }
            errors.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let (name, handle) = opened else { throw DistributedError.noMPI(worldSize: 0, reasons: errors) }
        func symbol(_ symbolName: String) throws -> UnsafeMutableRawPointer {
            guard let pointer = dlsym(handle, symbolName) else {
                throw DistributedError.unsupportedMPI(library: name, version: "no symbol \(symbolName)")
            }
            return pointer
        }
        func function<T>(_ symbolName: String, as type: T.Type) throws -> T { unsafeBitCast(try symbol(symbolName), to: type) }
        self.name = name
        let libraryVersion = try function("MPI_Get_library_version", as: LibraryVersion.self)
        var text = [CChar](repeating: 0, count: 8192)
        var length: Int32 = 0
        _ = libraryVersion(&text, &length)
        let full = String(decoding: text.prefix(Int(Swift.max(0, Swift.min(length, 8191)))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // "Open MPI v4.1.4, package: ..., repo rev: ...": the name and version are enough.
        let firstLine = full.split(separator: "\n").first.map(String.init) ?? ""
        version = (firstLine.split(separator: ",").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces.union(.controlCharacters))
        guard version.hasPrefix("Open MPI") else { throw DistributedError.unsupportedMPI(library: name, version: version) }
        initThread = try function("MPI_Init_thread", as: InitThread.self)
        initialized = try function("MPI_Initialized", as: Flag.self)
        finalized = try function("MPI_Finalized", as: Flag.self)
        finalize = try function("MPI_Finalize", as: NoArguments.self)
        commRank = try function("MPI_Comm_rank", as: CommInteger.self)
        commSize = try function("MPI_Comm_size", as: CommInteger.self)
        allreduce = try function("MPI_Allreduce", as: Allreduce.self)
        iallreduce = try function("MPI_Iallreduce", as: Iallreduce.self)
        waitall = try function("MPI_Waitall", as: Waitall.self)
        bcast = try function("MPI_Bcast", as: Bcast.self)
        barrier = try function("MPI_Barrier", as: Barrier.self)
        abort = try function("MPI_Abort", as: Abort.self)
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
    }

    /// Throws for a non-zero MPI return code.
    static func check(_ code: Int32, _ call: String) throws {
        if code != 0 { throw DistributedError.call(call, code: code) }
    }
}
