import Foundation
import XCTest
@testable import NTrainCore

/// PyTorch golden values for the conv ops, written by scripts/golden_conv.py.
struct ConvGolden: Decodable {
    struct Array: Decodable {
        var shape: [Int]
        var data: [Float]
        var tensor: Tensor { Tensor(shape: Shape(shape), scalars: data) }
        func tensor(requiresGrad: Bool) -> Tensor { Tensor(shape: Shape(shape), scalars: data, requiresGrad: requiresGrad) }
    }

    struct Conv: Decodable {
        var name: String
        var x, weight: Array
        var bias: Array?
        var stride, padding, dilation: [Int]
        var groups: Int
        var out, probe, grad_x, grad_weight: Array
        var grad_bias: Array?
    }

    struct Pool: Decodable {
        var name: String
        var x: Array
        var kernel: [Int]
        var stride: [Int]?
        var padding: [Int]
        var out, probe, grad_x: Array
    }

    struct BatchNorm: Decodable {
        var name: String
        var x, running_mean, running_var: Array
        var weight, bias: Array?
        var training: Bool
        var momentum, eps: Float
        var out, probe, grad_x, new_running_mean, new_running_var: Array
        var grad_weight, grad_bias: Array?
    }

    var conv2d: [Conv]
    var max_pool2d: [Pool]
    var avg_pool2d: [Pool]
    var batch_norm: [BatchNorm]

    static func load() throws -> ConvGolden {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "conv_golden", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(ConvGolden.self, from: Data(contentsOf: url))
    }
}

/// Asserts |actual − expected| ≤ abs + rel·|expected| elementwise.
func assertClose(_ actual: Tensor?, _ expected: ConvGolden.Array?, rel: Float, abs: Float = 1e-6,
                 _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let actual, let expected else {
        XCTAssertTrue(actual == nil && expected == nil, "\(what): one of actual/expected is missing", file: file, line: line)
        return
    }
    XCTAssertEqual(actual.shape.dims, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.count == expected.data.count else { return }
    let a = actual.scalars
    var worst: Float = 0, at = 0
    for i in 0..<a.count {
        let excess = Swift.abs(a[i] - expected.data[i]) - (abs + rel * Swift.abs(expected.data[i]))
        if excess > worst { worst = excess; at = i }
    }
    XCTAssertEqual(worst, 0, "\(what): element \(at) is \(a[at]), expected \(expected.data[at])", file: file, line: line)
}
