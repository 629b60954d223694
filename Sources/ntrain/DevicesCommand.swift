import ArgumentParser
import NTrainCore
import NTrainEngine

/// `ntrain devices [--json]`: what ntrain can run on here, and what the default device is.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List usable devices, the CPU's features and GEMM kernels, CUDA status and the default device.",
        discussion: """
            Device strings follow MegEngine: cpux, cpu0, gpux, gpu0, gpu1, ..., xpux (a GPU when one is usable, \
            else the CPU). The default device is MGE_DEFAULT_DEVICE, else xpux; --device and the config's \
            "device" take precedence over it.

            The CPU line shows the instruction-set features found (CPUID), the OpenBLAS kernels in use and why \
            (ntrain's choice from the features, or OPENBLAS_CORETYPE when set), the GEMM self-check and a measured \
            512³ GEMM rate. See docs/cpu.md. The mpi line names the MPI library `mpirun -np N ntrain train` \
            would use and this process's rank and world size (docs/distributed.md).

            Exit status: 0 ok (an unusable GPU default is reported, not an error), 2 when MGE_DEFAULT_DEVICE \
            is not a valid device string.
            """)

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try reportingFailures {
            // Reported, not fatal: `devices` says why OpenBLAS could not be loaded.
            try? BLAS.load()
            let report = try DeviceReport.current()
            printOutput(json ? report.json().serialized(pretty: true) + "\n" : report.text())
        }
    }
}
