import Foundation
import NTrainCPU
import NTrainEngine
import XCTest

/// `ntrain devices` and `ntrain --version`, run as a separate process.
final class DevicesCLITests: XCTestCase {
    func testListsTheCPUAndExitsZero() throws {
        let result = try CLI.run(["devices"], environment: ["MGE_DEFAULT_DEVICE": nil])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stderr, "")
        XCTAssertTrue(result.stdout.hasPrefix("cpu0 "), result.stdout)
        XCTAssertTrue(result.stdout.contains("BLAS: OpenBLAS"), result.stdout)
        XCTAssertTrue(result.stdout.contains("xpux     -> "), result.stdout)
        XCTAssertTrue(result.stdout.contains("default  xpux -> "), result.stdout)
        XCTAssertTrue(result.stdout.contains("MGE_DEFAULT_DEVICE unset"), result.stdout)
    }

    func testJSONReportsThreadsCUDAAndDefault() throws {
        let result = try CLI.run(["devices", "--json"], environment: ["MGE_DEFAULT_DEVICE": "cpu0", "NTRAIN_THREADS": "3"])
        XCTAssertEqual(result.status, 0, result.summary)
        let object = try CLI.jsonObject(result.stdout)
        let devices = try XCTUnwrap(object["devices"] as? [String])
        XCTAssertEqual(devices.first, "cpu0")
        let cpu = try XCTUnwrap(object["cpu"] as? [String: Any])
        XCTAssertEqual(cpu["threads"] as? Int, 3)
        XCTAssertEqual(cpu["threads_source"] as? String, "NTRAIN_THREADS")
        XCTAssertEqual((cpu["logical_cores"] as? Int).map { $0 >= 1 }, true)
        let blas = try XCTUnwrap(cpu["blas"] as? [String: Any])
        XCTAssertEqual(blas["name"] as? String, "OpenBLAS")
        XCTAssertTrue((blas["config"] as? String)?.contains("OpenBLAS") ?? false, "\(blas)")
        let cuda = try XCTUnwrap(object["cuda"] as? [String: Any])
        let xpux = try XCTUnwrap(object["xpux"] as? [String: Any])
        if cuda["available"] as? Bool == true {
            XCTAssertEqual(xpux["device"] as? String, "gpu0")
        } else {
            XCTAssertFalse((cuda["reason"] as? String ?? "").isEmpty)
            XCTAssertEqual(xpux["device"] as? String, "cpu0")
            XCTAssertEqual(devices, ["cpu0"])
        }
        let defaults = try XCTUnwrap(object["default"] as? [String: Any])
        XCTAssertEqual(defaults["environment"] as? String, "cpu0")
        XCTAssertEqual(defaults["spec"] as? String, "cpu0")
        XCTAssertEqual(defaults["device"] as? String, "cpu0")
    }

    func testUnusableGPUDefaultIsReportedNotFatal() throws {
        let probe = try CLI.jsonObject(try CLI.run(["devices", "--json"]).stdout)
        guard (probe["cuda"] as? [String: Any])?["available"] as? Bool == false else {
            throw XCTSkip("a usable CUDA device exists here")
        }
        let result = try CLI.run(["devices"], environment: ["MGE_DEFAULT_DEVICE": "gpu1"])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertTrue(result.stdout.contains("default  gpu1 is not usable (MGE_DEFAULT_DEVICE=gpu1): device gpu1 is not usable"), result.stdout)
    }

    func testInvalidDefaultDeviceExitsTwoListingValidForms() throws {
        let result = try CLI.run(["devices"], environment: ["MGE_DEFAULT_DEVICE": "tpu3"])
        XCTAssertEqual(result.status, 2, result.summary)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.hasPrefix("error: MGE_DEFAULT_DEVICE=tpu3: invalid device 'tpu3'"), result.stderr)
        for form in ["cpux", "cpuN", "gpux", "gpuN", "xpux"] {
            XCTAssertTrue(result.stderr.contains(form), "missing \(form): \(result.stderr)")
        }
    }

    func testVersionAndUnknownCommand() throws {
        let version = try CLI.run(["--version"])
        XCTAssertEqual(version.status, 0, version.summary)
        XCTAssertEqual(version.stdout, NTrainVersion.string + "\n")

        let unknown = try CLI.run(["frobnicate"])
        XCTAssertEqual(unknown.status, 2, unknown.summary)
        XCTAssertTrue(unknown.stderr.contains("frobnicate"), unknown.stderr)
    }

    private func blasObject(_ environment: [String: String?]) throws -> [String: Any] {
        let result = try CLI.run(["devices", "--json"], environment: environment)
        XCTAssertEqual(result.status, 0, result.summary)
        let cpu = try XCTUnwrap(CLI.jsonObject(result.stdout)["cpu"] as? [String: Any])
        return try XCTUnwrap(cpu["blas"] as? [String: Any])
    }

    func testWithoutTheVariableNTrainChoosesTheKernelsFromTheCPU() throws {
        let blas = try blasObject(["OPENBLAS_CORETYPE": nil, "OPENBLAS_L2_SIZE": nil])
        let choice = OpenBLASCoreChoice.choose(features: .current, userCoreType: nil)
        XCTAssertEqual(blas["requested_core"] as? String, choice.core, "\(blas)")
        XCTAssertEqual(blas["reason"] as? String, choice.reason)
        XCTAssertEqual(blas["self_check"] as? String, "passed")
        XCTAssertEqual((blas["gemm_512_gflops"] as? Double).map { $0 > 0.1 }, true, "\(blas)")
        if let requested = choice.core, blas["note"] is NSNull {
            XCTAssertEqual((blas["core"] as? String)?.lowercased(), requested.lowercased(), "\(blas)")
        }
        let text = try CLI.run(["devices"], environment: ["OPENBLAS_CORETYPE": nil])
        XCTAssertTrue(text.stdout.contains("BLAS kernels: "), text.stdout)
        XCTAssertTrue(text.stdout.contains("GEMM self-check: passed; 512³ sgemm "), text.stdout)
        XCTAssertTrue(text.stdout.contains("features: "), text.stdout)
    }

    func testTheUsersCoreTypeWins() throws {
        let blas = try blasObject(["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(blas["core"] as? String, "Prescott", "\(blas)")
        XCTAssertEqual(blas["requested_core"] as? String, "Prescott")
        XCTAssertEqual(blas["reason"] as? String, "OPENBLAS_CORETYPE=Prescott is set in the environment")
        XCTAssertEqual(blas["self_check"] as? String, "passed")
    }

    func testKernelsThatFailTheSelfCheckFallBackToOpenBLASsDetection() throws {
        let choice = OpenBLASCoreChoice.choose(features: .current, userCoreType: nil)
        guard let chosen = choice.core else { throw XCTSkip("ntrain leaves the choice to OpenBLAS on this CPU") }
        // The real library is unloaded and opened again; the fault makes the chosen kernels answer wrong.
        let blas = try blasObject(["OPENBLAS_CORETYPE": nil, "NTRAIN_BLAS_SELF_CHECK_FAULT": chosen])
        let note = try XCTUnwrap(blas["note"] as? String, "\(blas)")
        XCTAssertTrue(note.hasPrefix("the \(chosen) kernels failed the GEMM self-check (case 1 (1×1×1, A·B)"), note)
        XCTAssertTrue(note.hasSuffix("using OpenBLAS's own detection"), note)
        XCTAssertEqual(blas["requested_core"] as? String, chosen)
        let core = try XCTUnwrap(blas["core"] as? String)
        // OpenBLAS's own detection may pick the same kernels, which then fail again and say so.
        XCTAssertEqual(blas["self_check"] as? String == "passed", core.lowercased() != chosen.lowercased(), "\(blas)")
    }
}
