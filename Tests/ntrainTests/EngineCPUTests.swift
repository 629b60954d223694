import Foundation
import NTrainCPU
import XCTest

final class EngineCPUTests: XCTestCase {
    private let haswell = CPUFeatures(vendor: "GenuineIntel", flags: ["sse2", "ssse3", "fma", "popcnt", "avx", "f16c", "abm", "bmi1", "avx2", "bmi2", "movbe"])
    private let sandyBridge = CPUFeatures(vendor: "GenuineIntel", flags: ["sse2", "ssse3", "popcnt", "avx"])

    func testMissingFeatures() {
        XCTAssertEqual(EngineCPU.missing(EngineCPU.haswellFeatures, in: haswell), [])
        XCTAssertEqual(EngineCPU.missing(EngineCPU.haswellFeatures, in: sandyBridge),
                       ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"])
        XCTAssertEqual(EngineCPU.missing(["avx"], in: CPUFeatures(vendor: "", flags: ["avx2", "avx512f"])), ["avx"])
    }

    func testThisMachineRunsTheEngineAsBuilt() {
        // The build compiled the engine for this machine's CPU (or portably): it must be accepted.
        XCTAssertNil(EngineCPU.problem())
        if !EngineCPU.requiredFeatures.isEmpty {
            XCTAssertEqual(EngineCPU.requiredFeatures, EngineCPU.haswellFeatures)
            let message = EngineCPU.problem(features: sandyBridge)
            XCTAssertNotNil(message)
            XCTAssertTrue(message!.contains("lacks avx2, fma"), message!)
            XCTAssertTrue(message!.contains("NTRAIN_PORTABLE=1"), message!)
        } else {
            XCTAssertNil(EngineCPU.problem(features: sandyBridge), "a portable build runs anywhere")
        }
    }
}

/// CPUID decoding, checked bit by bit and against the kernel's own view (/proc/cpuinfo).
final class CPUFeaturesTests: XCTestCase {
    private static func bits(_ indices: [Int]) -> UInt32 { indices.reduce(0) { $0 | (1 << UInt32($1)) } }
    // Leaf 1 ECX: SSE3 0, SSSE3 9, FMA 12, SSE4.1 19, SSE4.2 20, MOVBE 22, POPCNT 23, OSXSAVE 27, AVX 28, F16C 29.
    private let leaf1 = (ecx: bits([0, 9, 12, 19, 20, 22, 23, 27, 28, 29]), edx: bits([25, 26]))
    // Leaf 7 EBX: BMI1 3, AVX2 5, BMI2 8, AVX512F 16, DQ 17, CD 28, BW 30, VL 31.
    private let leaf7 = (ebx: bits([3, 5, 8, 16, 17, 28, 30, 31]), ecx: UInt32(0))

    func testAVX512CountsOnlyWhenTheOSSavesItsRegisters() {
        let full = CPUFeatures.x86Flags(leaf1: leaf1, leaf7: leaf7, leaf7Subleaf1EAX: 1 << 5, extendedECX: 1 << 5, xcr0: 0b1110_0111)
        XCTAssertTrue(full.isSuperset(of: ["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "abm", "pni", "sse2"]), "\(full)")
        // AVX state saved, AVX-512 state not (a hypervisor or OS without AVX-512 support).
        let avxOnly = CPUFeatures.x86Flags(leaf1: leaf1, leaf7: leaf7, leaf7Subleaf1EAX: 1 << 5, extendedECX: 0, xcr0: 0b111)
        XCTAssertTrue(avxOnly.isSuperset(of: ["avx", "avx2", "fma", "bmi2"]), "\(avxOnly)")
        XCTAssertTrue(avxOnly.isDisjoint(with: ["avx512f", "avx512bw", "avx512vl", "avx512_bf16", "abm"]), "\(avxOnly)")
        // No XSAVE enabled: no AVX of any width, the integer extensions remain.
        let none = CPUFeatures.x86Flags(leaf1: leaf1, leaf7: leaf7, leaf7Subleaf1EAX: nil, extendedECX: nil, xcr0: nil)
        XCTAssertTrue(none.isDisjoint(with: ["avx", "avx2", "fma", "f16c", "avx512f"]), "\(none)")
        XCTAssertTrue(none.isSuperset(of: ["sse4_2", "bmi1", "bmi2", "movbe", "popcnt"]), "\(none)")
    }

    func testDetectionAgreesWithProcCPUInfo() throws {
        #if arch(x86_64)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { throw XCTSkip("no /proc/cpuinfo flags line") }
        let kernel = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        let detected = CPUFeatures.current
        // Names every Linux since 4.x prints; newer ones (avx_vnni, avx512_bf16, …) an older kernel may omit.
        let compared = ["sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "abm", "movbe", "bmi1", "bmi2",
                        "avx", "f16c", "fma", "avx2", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]
        for name in compared {
            XCTAssertEqual(detected.flags.contains(name), kernel.contains(name), "\(name): CPUID vs /proc/cpuinfo")
        }
        XCTAssertFalse(detected.vendor.isEmpty)
        #else
        throw XCTSkip("x86-64 only")
        #endif
    }
}

/// The core type ntrain asks OpenBLAS for, by CPU.
final class OpenBLASCoreChoiceTests: XCTestCase {
    private let prescott = CPUFeatures(vendor: "GenuineIntel", flags: ["sse", "sse2", "pni"])
    private let nehalem = CPUFeatures(vendor: "GenuineIntel", flags: ["sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2", "popcnt"])
    private let haswell = CPUFeatures(vendor: "GenuineIntel", flags: ["sse2", "ssse3", "sse4_2", "popcnt", "avx", "avx2", "fma", "f16c", "bmi1", "bmi2"])
    private let zen3 = CPUFeatures(vendor: "AuthenticAMD", flags: ["sse2", "ssse3", "sse4_2", "popcnt", "avx", "avx2", "fma", "f16c", "bmi1", "bmi2"])
    private let skylakeX = CPUFeatures(vendor: "GenuineIntel", flags: ["sse2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"])
    private let zen4 = CPUFeatures(vendor: "AuthenticAMD", flags: ["sse2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_bf16"])

    func testChoiceByFeatures() {
        func core(_ f: CPUFeatures) -> String? { OpenBLASCoreChoice.choose(features: f, userCoreType: nil).core }
        XCTAssertEqual(core(prescott), "Prescott")
        XCTAssertEqual(core(nehalem), "Nehalem")
        XCTAssertEqual(core(haswell), "Haswell")
        XCTAssertEqual(core(zen3), "Zen")
        XCTAssertEqual(core(skylakeX), "SkylakeX")
        XCTAssertEqual(core(zen4), "SkylakeX", "AVX-512 on AMD runs the SkylakeX kernels")
        // AVX-512 F alone (Knights Landing) lacks BW/VL: the AVX2 kernels.
        XCTAssertEqual(core(CPUFeatures(vendor: "GenuineIntel", flags: ["avx", "avx2", "fma", "avx512f", "avx512cd"])), "Haswell")
        XCTAssertEqual(core(CPUFeatures(vendor: "GenuineIntel", flags: ["avx", "sse4_2"])), "Sandybridge")
        // No CPUID (AArch64): OpenBLAS decides.
        XCTAssertNil(core(CPUFeatures(vendor: "", flags: ["asimd"])))
    }

    func testTheUsersCoreTypeWins() {
        let choice = OpenBLASCoreChoice.choose(features: zen4, userCoreType: " Prescott ")
        XCTAssertEqual(choice.core, "Prescott")
        XCTAssertTrue(choice.reason.contains("OPENBLAS_CORETYPE=Prescott"), choice.reason)
        // An empty variable is no choice.
        XCTAssertEqual(OpenBLASCoreChoice.choose(features: zen4, userCoreType: "").core, "SkylakeX")
    }
}
