import XCTest
import NTrainCPUCheck

final class EngineCPUTests: XCTestCase {
    private let haswell = "processor\t: 0\nflags\t\t: fpu sse2 ssse3 fma popcnt avx f16c abm bmi1 avx2 bmi2 movbe\n\nprocessor\t: 1\n"
    private let sandyBridge = "processor\t: 0\nflags\t\t: fpu sse2 ssse3 popcnt avx\n"

    func testMissingFeaturesAreReadFromTheFlagsLine() {
        XCTAssertEqual(EngineCPU.missing(EngineCPU.haswellFeatures, cpuinfo: haswell), [])
        XCTAssertEqual(EngineCPU.missing(EngineCPU.haswellFeatures, cpuinfo: sandyBridge),
                       ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"])
        // "avx" is not satisfied by "avx2", nor anything by a missing flags line.
        XCTAssertEqual(EngineCPU.missing(["avx"], cpuinfo: "flags\t: avx2 avx512f\n"), ["avx"])
        XCTAssertEqual(EngineCPU.missing(["avx2"], cpuinfo: "processor : 0\n"), ["avx2"])
    }

    func testThisMachineRunsTheEngineAsBuilt() {
        // The build compiled the engine for this machine's CPU (or portably): it must be accepted.
        XCTAssertNil(EngineCPU.problem())
        if !EngineCPU.requiredFeatures.isEmpty {
            XCTAssertEqual(EngineCPU.requiredFeatures, EngineCPU.haswellFeatures)
            let message = EngineCPU.problem(cpuinfo: sandyBridge)
            XCTAssertNotNil(message)
            XCTAssertTrue(message!.contains("lacks avx2, fma"), message!)
            XCTAssertTrue(message!.contains("NTRAIN_PORTABLE=1"), message!)
        } else {
            XCTAssertNil(EngineCPU.problem(cpuinfo: sandyBridge), "a portable build runs anywhere")
        }
    }
}
