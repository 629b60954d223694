// swift-tools-version:6.0
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
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .target(name: "NTrainCore", dependencies: ["CBLAS"], swiftSettings: optimized),
        .target(name: "NTrainNN", dependencies: ["NTrainCore"], swiftSettings: optimized),
        .target(
            name: "NTrainData",
            dependencies: ["NTrainCore", "CZlib", "CPNG", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: optimized),
        .target(name: "NTrainEngine", dependencies: ["NTrainNN", "NTrainData", "CZlib"], swiftSettings: optimized),
        .executableTarget(
            name: "ntrain",
            dependencies: ["NTrainEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ntrain-bench", dependencies: ["NTrainEngine"], swiftSettings: optimized),
        .executableTarget(name: "linear-regression-example", dependencies: ["NTrainNN"], path: "Examples/LinearRegression"),
        .testTarget(name: "NTrainCoreTests", dependencies: ["NTrainCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NTrainNNTests", dependencies: ["NTrainNN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NTrainDataTests", dependencies: ["NTrainData"]),
        .testTarget(name: "NTrainEngineTests", dependencies: ["NTrainEngine"]),
        .testTarget(name: "ntrainTests", dependencies: ["NTrainEngine"]),
    ],
    swiftLanguageModes: [.v5]
)

/// Numeric kernels are unusable in debug builds (10-50x slower), so the engine targets are always
/// compiled with optimisation; tests still build quickly because test targets stay -Onone.
var optimized: [SwiftSetting] { [.unsafeFlags(["-Ounchecked"])] }
