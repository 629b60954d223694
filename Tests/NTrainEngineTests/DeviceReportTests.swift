import NTrainCore
import XCTest
@testable import NTrainEngine

final class DeviceReportTests: XCTestCase {
    private let cpu = DeviceReport.CPU(
        modelName: "Test CPU", architecture: "x86_64", logicalCores: 8, activeCores: 4, threads: 4,
        threadsSource: "active cores", blas: .init(name: "OpenBLAS", config: "OpenBLAS 0.3.21 Zen", core: "Zen"))

    func testCPUModelNameFromCPUInfo() {
        let x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC   7B13 64-Core Processor\nprocessor\t: 1\nmodel name\t: other\n"
        XCTAssertEqual(DeviceReport.cpuModelName(inCPUInfo: x86), "AMD EPYC 7B13 64-Core Processor")
        XCTAssertEqual(DeviceReport.cpuModelName(inCPUInfo: "processor : 0\nBogoMIPS : 50\nModel : Raspberry Pi 4\n"), "Raspberry Pi 4")
        XCTAssertNil(DeviceReport.cpuModelName(inCPUInfo: "processor : 0\nmodel name :   \n"))
        XCTAssertNil(DeviceReport.cpuModelName(inCPUInfo: ""))
    }

    func testReportSaysWhatTheEngineWasCompiledFor() throws {
        let report = try DeviceReport(cpu: cpu, cuda: .unavailable("no driver"), environment: [:])
        XCTAssertTrue(report.text().contains("engine kernels: \(DeviceReport.engineTarget)"), report.text())
        XCTAssertTrue(DeviceReport.engineTarget.hasPrefix("Haswell-class") || DeviceReport.engineTarget.hasPrefix("portable"))
        guard case .object(let root) = report.json(), case .object(let cpuObject)? = root["cpu"] else { return XCTFail("no cpu object") }
        XCTAssertEqual(cpuObject["engine_target"], .string(DeviceReport.engineTarget))
    }

    func testXPUXIsCPUWithoutCUDAAndGPUWithIt() throws {
        let none = try DeviceReport(cpu: cpu, cuda: .unavailable("no driver"), environment: [:])
        XCTAssertEqual(none.xpux, .cpu)
        XCTAssertEqual(none.xpuxReason, "no usable CUDA device: no driver")
        XCTAssertEqual(none.usableDevices, [.cpu])
        XCTAssertEqual(none.defaultSpec.description, "xpux")
        XCTAssertEqual(none.defaultDevice, .success(.cpu))

        let two = try DeviceReport(cpu: cpu, cuda: .available(deviceCount: 2), environment: ["MGE_DEFAULT_DEVICE": "gpu1"])
        XCTAssertEqual(two.xpux, .gpu(0))
        XCTAssertEqual(two.usableDevices, [.cpu, .gpu(0), .gpu(1)])
        XCTAssertEqual(two.defaultDevice, .success(.gpu(1)))
        XCTAssertTrue(two.text().contains("gpu1     CUDA device 1"), two.text())
    }

    func testEnvironmentDefaultIsValidatedAndResolved() throws {
        XCTAssertThrowsError(try DeviceReport(cpu: cpu, cuda: .unavailable("x"), environment: ["MGE_DEFAULT_DEVICE": "tpu3"])) { error in
            XCTAssertEqual(error as? DeviceReportError, .invalidDefaultDevice(value: "tpu3", error: .invalid("tpu3")))
            XCTAssertTrue("\(error)".contains("cpux, cpuN, gpux, gpuN or xpux"), "\(error)")
        }
        // Empty means unset.
        XCTAssertEqual(try DeviceReport(cpu: cpu, cuda: .unavailable("x"), environment: ["MGE_DEFAULT_DEVICE": ""]).environmentDevice, nil)
        // A GPU default without CUDA is reported, not thrown: the report is informational.
        let gpu = try DeviceReport(cpu: cpu, cuda: .unavailable("no driver"), environment: ["MGE_DEFAULT_DEVICE": "gpu0"])
        XCTAssertEqual(gpu.defaultDevice, .failure(.gpuUnavailable(requested: "gpu0", reason: "no driver")))
        XCTAssertEqual(gpu.json()["default"]?["device"], .null)
        XCTAssertEqual(gpu.json()["default"]?["spec"], "gpu0")
        let outOfRange = try DeviceReport(cpu: cpu, cuda: .available(deviceCount: 1), environment: ["MGE_DEFAULT_DEVICE": "gpu3"])
        XCTAssertEqual(outOfRange.defaultDevice, .failure(.indexOutOfRange(requested: "gpu3", count: 1)))
    }

    func testTextAndJSONCarryTheCPUAndBLAS() throws {
        let report = try DeviceReport(cpu: cpu, cuda: .unavailable("no driver"), environment: [:])
        let text = report.text()
        XCTAssertTrue(text.hasPrefix("cpu0     Test CPU (x86_64), 4 of 8 logical cores available\n"), text)
        XCTAssertTrue(text.contains("BLAS: OpenBLAS 0.3.21 Zen (single-threaded"), text)
        XCTAssertTrue(text.contains("BLAS kernels: Zen\n"), text)
        XCTAssertTrue(text.contains("gpu      none: no driver"), text)
        let json = report.json()
        XCTAssertEqual(json["devices"], ["cpu0"])
        XCTAssertEqual(json["cpu"]?["threads"], 4)
        XCTAssertEqual(json["cuda"]?["available"], false)
        XCTAssertEqual(json["xpux"]?["device"], "cpu0")
    }

    func testKernelChoiceSelfCheckAndRateAreReported() throws {
        var blas = DeviceReport.BLAS(name: "OpenBLAS", config: "OpenBLAS 0.3.21 DYNAMIC_ARCH Cooperlake", core: "Cooperlake")
        blas.requested = "SkylakeX"
        blas.reason = "AVX-512 F/CD/BW/DQ/VL with OS support"
        blas.selfCheck = "passed"
        blas.note = "the SkylakeX kernels failed the GEMM self-check (case 1); using OpenBLAS's own detection"
        blas.gflops512 = 231.25
        var withBLAS = cpu
        withBLAS.blas = blas
        withBLAS.features = ["avx2", "avx512f"]
        let report = try DeviceReport(cpu: withBLAS, cuda: .unavailable("no driver"), environment: [:])
        let text = report.text()
        XCTAssertTrue(text.contains("\n         features: avx2 avx512f\n"), text)
        XCTAssertTrue(text.contains("\n         BLAS kernels: Cooperlake (requested SkylakeX: AVX-512 F/CD/BW/DQ/VL with OS support)\n"), text)
        XCTAssertTrue(text.contains("\n         note: the SkylakeX kernels failed the GEMM self-check (case 1); using OpenBLAS's own detection\n"), text)
        XCTAssertTrue(text.contains("\n         GEMM self-check: passed; 512³ sgemm 231.2 GFLOP/s on 1 thread\n"), text)
        let json = report.json()
        XCTAssertEqual(json["cpu"]?["features"], ["avx2", "avx512f"])
        XCTAssertEqual(json["cpu"]?["blas"]?["core"], "Cooperlake")
        XCTAssertEqual(json["cpu"]?["blas"]?["requested_core"], "SkylakeX")
        XCTAssertEqual(json["cpu"]?["blas"]?["self_check"], "passed")
        XCTAssertEqual(json["cpu"]?["blas"]?["gemm_512_gflops"], .double(231.25))
        XCTAssertEqual(json["cpu"]?["blas"]?["load_error"], .null)

        var missing = cpu
        missing.blas = DeviceReport.BLAS(name: "OpenBLAS")
        missing.blas.loadError = "OpenBLAS could not be loaded (libopenblas.so.0: cannot open shared object file)"
        let text2 = try DeviceReport(cpu: missing, cuda: .unavailable("no driver"), environment: [:]).text()
        XCTAssertTrue(text2.contains("BLAS: OpenBLAS not loaded: OpenBLAS could not be loaded"), text2)
    }

    func testCurrentCPUReadsThisMachine() {
        let current = DeviceReport.currentCPU(environment: [:])
        XCTAssertGreaterThanOrEqual(current.logicalCores, 1)
        XCTAssertEqual(current.threads, Parallel.threadCount)
        XCTAssertTrue(current.blas.config?.hasPrefix("OpenBLAS") ?? false, "\(current.blas)")
        XCTAssertFalse(current.architecture.isEmpty)
        XCTAssertEqual(current.blas.selfCheck, "passed")
        XCTAssertNotNil(current.blas.reason)
        XCTAssertGreaterThan(current.blas.gflops512 ?? 0, 0.1)
    }
}
