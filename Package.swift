// swift-tools-version:6.0
import Foundation
import PackageDescription

let package = Package(
    name: "ntrain",
    products: [
        .executable(name: "ntrain", targets: ["ntrain"]),
        .library(name: "NTrain", targets: ["NTrainCore", "NTrainNN", "NTrainData", "NTrainEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(name: "CCPUID"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .systemLibrary(name: "CFloatMath", path: "Sources/CFloatMath"),
        .target(name: "NTrainCore", dependencies: ["NTrainCPU", "CFloatMath"], swiftSettings: optimized),
        .target(name: "NTrainNN", dependencies: ["NTrainCore", "CFloatMath"], swiftSettings: optimized),
        .target(
            name: "NTrainData",
            dependencies: ["NTrainCore", "CZlib", "CPNG", "CJPEG", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: optimized),
        .target(name: "NTrainEngine",
                dependencies: ["NTrainNN", "NTrainData", "NTrainCPU", "CZlib", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                swiftSettings: optimized),
        .target(name: "NTrainCPU", dependencies: ["CCPUID"], swiftSettings: engineForHaswell ? [.define("NTRAIN_ENGINE_HASWELL")] : []),
        .executableTarget(
            name: "ntrain",
            dependencies: ["NTrainEngine", "NTrainCPU", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ntrain-bench", dependencies: ["NTrainEngine"], swiftSettings: optimized),
        .executableTarget(name: "linear-regression-example", dependencies: ["NTrainNN"], path: "Examples/LinearRegression"),
        .target(name: "NTrainCUDAEmulator", dependencies: ["NTrainCore"]),
        .testTarget(name: "NTrainCoreTests", dependencies: ["NTrainCore", "NTrainCUDAEmulator"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NTrainNNTests", dependencies: ["NTrainNN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NTrainDataTests", dependencies: ["NTrainData"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NTrainEngineTests", dependencies: ["NTrainEngine", "NTrainCUDAEmulator"]),
        .testTarget(name: "ntrainTests", dependencies: ["NTrainEngine", "NTrainCPU", "NTrainCUDAEmulator"]),
    ],
    swiftLanguageModes: [.v5]
)

/// Numeric kernels are unusable in debug builds (10-50x slower), so the engine targets are always
/// compiled with optimisation; tests still build quickly because test targets stay -Onone.
/// On an x86-64 build machine with AVX2 and FMA they are compiled for Haswell-class CPUs (8-lane
/// loops instead of SSE2's 4: LeNet5-GELU training +16%, bit-identical weights); the CLI then
/// refuses to start on an older CPU (NTrainCPU's EngineCPU, which reads CPUID). `NTRAIN_PORTABLE=1` builds for any x86-64.
/// `NTRAIN_FMA`: the CPU the engine is compiled for has fused multiply-add (GELU's polynomials use it).
/// `NTRAIN_CHECKED=1` compiles them with `-O` instead, keeping bounds checks and preconditions:
/// CI runs the tests a second time so (in its own --scratch-path), so that a wrong precondition
/// fails a test instead of vanishing.
var optimized: [SwiftSetting] {
    [.unsafeFlags([checkedEngine ? "-O" : "-Ounchecked"] + (engineForHaswell ? ["-target-cpu", "haswell"] : []))]
        + (engineForHaswell || hostIsARM64 ? [.define("NTRAIN_FMA")] : [])
}

var checkedEngine: Bool { ProcessInfo.processInfo.environment["NTRAIN_CHECKED"] == "1" }

/// AArch64 always has FMA.
var hostIsARM64: Bool {
    #if arch(arm64)
    return true
    #else
    return false
    #endif
}

/// Whether this machine is an x86-64 Linux host with every feature `-target-cpu haswell` uses.
var engineForHaswell: Bool {
    #if arch(x86_64) && os(Linux)
    guard ProcessInfo.processInfo.environment["NTRAIN_PORTABLE"] != "1",
          let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
    let flags = Set(line.split(separator: " ").map(String.init))
    // Keep in step with EngineCPU.haswellFeatures (the manifest cannot run CPUID, so it reads /proc/cpuinfo).
    return ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "popcnt"].allSatisfy(flags.contains)
    #else
    return false
    #endif
}
