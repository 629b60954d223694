import Foundation
import NTrainCore

extension DeviceReport {
    /// The human-readable report printed by `ntrain devices`.
    public func text() -> String {
        var lines: [String] = []
        let cores = cpu.activeCores == cpu.logicalCores
            ? "\(cpu.logicalCores) logical cores"
            : "\(cpu.activeCores) of \(cpu.logicalCores) logical cores available"
        lines.append("cpu0     \(cpu.modelName ?? "unknown CPU") (\(cpu.architecture)), \(cores)")
        lines.append("         threads: \(cpu.threads) (\(cpu.threadsSource))")
        if !cpu.features.isEmpty { lines.append("         features: \(cpu.features.joined(separator: " "))") }
        lines += blasLines
        lines.append("         engine kernels: \(cpu.engineTarget)")
        for gpu in gpus { lines.append(gpu.description) }
        switch cuda {
        case .available(let n):
            if gpus.isEmpty { for i in 0..<n { lines.append("gpu\(i)     CUDA device \(i)") } }
        case .unavailable(let reason):
            lines.append("gpu      \(gpus.isEmpty ? "none" : "not usable"): \(reason)")
        }
        lines.append(mpiLine)
        lines.append("")
        lines.append("xpux     -> \(xpux) (\(xpuxReason))")
        let source = environmentDevice.map { "MGE_DEFAULT_DEVICE=\($0)" } ?? "MGE_DEFAULT_DEVICE unset, so xpux"
        switch defaultDevice {
        case .success(let device):
            lines.append("default  \(defaultSpec) -> \(device) (\(source))")
        case .failure(let error):
            lines.append("default  \(defaultSpec) is not usable (\(source)): \(error)")
        }
        lines.append("         precedence: --device > config \"device\" > MGE_DEFAULT_DEVICE > xpux")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The BLAS build, its kernels and why, the self-check and the measured GEMM rate.
    private var blasLines: [String] {
        let blas = cpu.blas
        if let error = blas.loadError { return ["         BLAS: \(blas.name) not loaded: \(error)"] }
        // OpenBLAS's config string starts with its own name and version.
        var build = "         BLAS: " + (blas.config.map { $0.hasPrefix(blas.name) ? $0 : "\(blas.name) \($0)" } ?? blas.name)
        build += " (single-threaded; ntrain parallelises over the batch)"
        var kernels = "         BLAS kernels: \(blas.core ?? "unknown")"
        if let reason = blas.reason {
            kernels += blas.requested == nil ? " (\(reason))" : " (requested \(blas.requested!): \(reason))"
        }
        var lines = [build, kernels]
        if let note = blas.note { lines.append("         note: \(note)") }
        var check = "         GEMM self-check: \(blas.selfCheck ?? "not run")"
        if let rate = blas.gflops512 { check += "; 512³ sgemm \(String(format: "%.1f", rate)) GFLOP/s on 1 thread" }
        lines.append(check)
        return lines
    }

    /// The MPI library for `mpirun -np N ntrain train` and this process's world.
    private var mpiLine: String {
        let world = mpi.worldSize > 1 ? "rank \(mpi.rank) of \(mpi.worldSize)" : "world size 1 (not started by mpirun)"
        if let library = mpi.library {
            return "mpi      \(mpi.version ?? "MPI") (\(library)); \(world)"
        }
        return "mpi      none: \(mpi.problem ?? "no MPI library"); \(world)"
    }

    /// One machine-readable object with the same content as `text()`.
    public func json() -> JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        var cudaObject: [String: JSONValue]
        switch cuda {
        case .available(let n): cudaObject = ["available": true, "device_count": .integer(Int64(n)), "reason": .null]
        case .unavailable(let reason): cudaObject = ["available": false, "device_count": 0, "reason": .string(reason)]
        }
        cudaObject["gpus"] = .array(gpus.map { gpu in
            .object(["index": .integer(Int64(gpu.index)), "name": .string(gpu.name), "memory_bytes": .integer(Int64(gpu.totalMemory)),
                     "compute_capability": .string("\(gpu.computeCapability.major).\(gpu.computeCapability.minor)"),
                     "multiprocessors": .integer(Int64(gpu.multiprocessors))])
        })
        var defaultObject: [String: JSONValue] = [
            "spec": .string(defaultSpec.description), "environment": opt(environmentDevice),
        ]
        switch defaultDevice {
        case .success(let device):
            defaultObject["device"] = .string(device.description)
            defaultObject["error"] = .null
        case .failure(let error):
            defaultObject["device"] = .null
            defaultObject["error"] = .string(error.description)
        }
        return .object([
            "devices": .array(usableDevices.map { .string($0.description) }),
            "cpu": .object([
                "model": opt(cpu.modelName), "architecture": .string(cpu.architecture),
                "logical_cores": .integer(Int64(cpu.logicalCores)), "active_cores": .integer(Int64(cpu.activeCores)),
                "threads": .integer(Int64(cpu.threads)), "threads_source": .string(cpu.threadsSource),
                "features": .array(cpu.features.map(JSONValue.string)),
                "blas": .object([
                    "name": .string(cpu.blas.name), "config": opt(cpu.blas.config), "core": opt(cpu.blas.core),
                    "requested_core": opt(cpu.blas.requested), "reason": opt(cpu.blas.reason),
                    "self_check": opt(cpu.blas.selfCheck), "note": opt(cpu.blas.note),
                    "gemm_512_gflops": cpu.blas.gflops512.map { .double($0) } ?? .null,
                    "load_error": opt(cpu.blas.loadError),
                ]),
                "engine_target": .string(cpu.engineTarget),
            ]),
            "cuda": .object(cudaObject),
            "mpi": .object(["library": opt(mpi.library), "version": opt(mpi.version), "problem": opt(mpi.problem),
                            "world_size": .integer(Int64(mpi.worldSize)), "rank": .integer(Int64(mpi.rank))]),
            "xpux": .object(["device": .string(xpux.description), "reason": .string(xpuxReason)]),
            "default": .object(defaultObject),
        ])
    }
}
