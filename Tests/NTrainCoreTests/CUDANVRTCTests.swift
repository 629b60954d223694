import Foundation
import XCTest
@testable import NTrainCore

/// NVRTC runs on the CPU, so every GPU kernel is compiled to PTX here, GPU or not. The tests skip
/// (with how to install it) where libnvrtc is absent.
final class CUDANVRTCTests: XCTestCase {
    private func nvrtcOrSkip() throws -> NVRTC {
        do {
            return try NVRTC.shared()
        } catch {
            throw XCTSkip("libnvrtc not found, so CUDA kernels were not compiled: \(error)")
        }
    }

    /// `.entry` names in PTX text.
    private func entries(in ptx: String) -> Set<String> {
        var names = Set<String>()
        for line in ptx.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "(" })
            if let i = parts.firstIndex(of: ".entry"), i + 1 < parts.count { names.insert(String(parts[i + 1])) }
        }
        return names
    }

    func testEveryKernelUnitCompilesToPTXWithExactlyItsEntryPoints() throws {
        let nvrtc = try nvrtcOrSkip()
        // The oldest architecture the default targets and a current one (H100).
        for arch in ["compute_75", "compute_90"] {
            for unit in CUDAKernels.all {
                let ptx: String
                do {
                    ptx = try nvrtc.compile(unit.source, name: unit.name, options: NVRTC.defaultOptions(architecture: arch))
                } catch {
                    XCTFail("\(unit.name) for \(arch): \(error)")
                    continue
                }
                XCTAssertTrue(ptx.contains(".target sm_\(arch.dropFirst("compute_".count))"), "\(unit.name): PTX for another target")
                XCTAssertEqual(entries(in: ptx), Set(unit.entryPoints), "\(unit.name) (\(arch)): entry points differ from the declared list")
            }
        }
    }

    func testEntryPointsAreUniqueAndFindTheirUnit() {
        var seen: [String: String] = [:]
        for unit in CUDAKernels.all {
            XCTAssertFalse(unit.entryPoints.isEmpty, unit.name)
            XCTAssertTrue(unit.source.hasPrefix(CUDAKernels.prelude), unit.name)
            for e in unit.entryPoints {
                XCTAssertNil(seen[e], "\(e) defined by both \(seen[e] ?? "") and \(unit.name)")
                seen[e] = unit.name
                XCTAssertEqual(CUDAKernels.unit(defining: e)?.name, unit.name)
            }
        }
        XCTAssertNil(CUDAKernels.unit(defining: "no_such_kernel"))
        // Kernels the op check and the backend rely on, one per CPU op family.
        for e in ["add_broadcast_f32", "gelu_backward_f32", "sum_axis_f32", "softmax_rows_f32", "cross_entropy_backward_f32",
                  "im2col_f32", "col2im_f32", "max_pool2d_backward_f32", "batch_norm_backward_f32", "dropout_mask_f32",
                  "sgd_f32", "adam_f32", "nadam_f32", "adagrad_f32", "rmsprop_f32", "gemm_f32"] {
            XCTAssertNotNil(seen[e], "missing kernel \(e)")
        }
    }

    func testCompileErrorReportsNVRTCsLog() throws {
        let nvrtc = try nvrtcOrSkip()
        let bad = "extern \"C\" __global__ void broken(float* x) {\n    x[0] = undefined_name;\n}\n"
        XCTAssertThrowsError(try nvrtc.compile(bad, name: "broken.cu")) { error in
            guard case let NVRTCError.compileFailed(program, options, log) = error else {
                return XCTFail("expected compileFailed, got \(error)")
            }
            XCTAssertEqual(program, "broken.cu")
            XCTAssertEqual(options, NVRTC.defaultOptions())
            XCTAssertTrue(log.contains("broken.cu(2)"), "log should point at line 2: \(log)")
            XCTAssertTrue(log.contains("undefined_name"), log)
            XCTAssertTrue("\(error)".contains("NVRTC could not compile broken.cu"), "\(error)")
        }
    }

    func testCompiledPTXIsCachedPerSourceAndOptions() throws {
        let nvrtc = try nvrtcOrSkip()
        // A source no other test compiles, so the counts below are this test's own.
        let source = "extern \"C\" __global__ void cache_probe_\(UInt32.random(in: 0...UInt32.max))(float* x) { x[0] = 1.0f; }"
        let before = nvrtc.cachedProgramCount
        let first = try nvrtc.compile(source, name: "probe.cu")
        XCTAssertEqual(nvrtc.cachedProgramCount, before + 1)
        XCTAssertEqual(try nvrtc.compile(source, name: "probe.cu"), first)
        XCTAssertEqual(nvrtc.cachedProgramCount, before + 1, "the same source and options must not compile again")
        let other = try nvrtc.compile(source, name: "probe.cu", options: NVRTC.defaultOptions(architecture: "compute_80"))
        XCTAssertEqual(nvrtc.cachedProgramCount, before + 2)
        XCTAssertTrue(other.contains(".target sm_80"))
        let version = try nvrtc.version()
        XCTAssertGreaterThanOrEqual(version.major, 11)
    }

    func testMissingLibraryListsEveryAttemptAndHowToInstall() {
        let result = NVRTC.load(from: ["/nonexistent/libnvrtc.so.12", "libnvrtc-does-not-exist.so"])
        guard case .failure(let error) = result, case .libraryNotFound(let tried) = error else {
            return XCTFail("expected libraryNotFound, got \(result)")
        }
        XCTAssertEqual(tried.count, 2)
        XCTAssertTrue(tried[0].hasPrefix("/nonexistent/libnvrtc.so.12 ("), tried[0])
        XCTAssertTrue(error.description.contains("pip install nvidia-cuda-nvrtc-cu12"), error.description)
        XCTAssertTrue(error.description.contains("NTRAIN_NVRTC"), error.description)
    }

    func testLibraryWithoutNVRTCSymbolsIsRejected() {
        XCTAssertThrowsError(try NVRTC(library: "libz.so.1")) { error in
            XCTAssertEqual(error as? NVRTCError, .symbolMissing(library: "libz.so.1", symbol: "nvrtcVersion"))
        }
    }

    func testCandidatesFollowTheEnvironmentVariableAndVirtualEnvironments() throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("ntrain-nvrtc-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: root) }
        let pipLib = root + "/.venv-x/lib/python3.11/site-packages/nvidia/cuda_nvrtc/lib"
        let explicitDir = root + "/explicit"
        try fm.createDirectory(atPath: pipLib, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: explicitDir, withIntermediateDirectories: true)
        for path in [pipLib + "/libnvrtc.so.12", pipLib + "/libnvrtc-builtins.so.12.9", explicitDir + "/libnvrtc.so.12"] {
            XCTAssertTrue(fm.createFile(atPath: path, contents: Data()))
        }
        let file = NVRTC.candidates(environment: ["NTRAIN_NVRTC": "/opt/x/libnvrtc.so.12"], workingDirectory: root)
        XCTAssertEqual(file.first, "/opt/x/libnvrtc.so.12")
        XCTAssertTrue(file.contains("libnvrtc.so.12"))
        XCTAssertTrue(file.contains(pipLib + "/libnvrtc.so.12"), "\(file)")
        XCTAssertFalse(file.contains { $0.contains("builtins") }, "the builtins library is not NVRTC")
        let dir = NVRTC.candidates(environment: ["NTRAIN_NVRTC": explicitDir], workingDirectory: root)
        XCTAssertEqual(dir.first, explicitDir + "/libnvrtc.so.12")
        XCTAssertEqual(Set(dir).count, dir.count, "no duplicates")
    }
}
