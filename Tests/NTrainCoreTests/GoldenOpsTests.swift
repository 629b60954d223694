import Foundation
import XCTest
@testable import NTrainCore

/// Compares every op with PyTorch on the fixed cases in Fixtures/ops_golden.json (written by
/// scripts/golden_ops.py): forward values, and input gradients of sum(output * w).
final class GoldenOpsTests: XCTestCase {
    struct Fixture: Decodable { var cases: [Case] }
    struct Case: Decodable {
        struct Input: Decodable { var shape: [Int]; var dtype: String; var values: [Float] }
        struct Output: Decodable { var shape: [Int]; var values: [Float] }
        var name: String
        var inputs: [Input]
        var output: Output
        var w: [Float]?
        var grads: [[Float]?]?
    }

    /// The ntrain op for each fixture case name.
    static let ops: [String: ([Tensor]) -> Tensor] = [
        "exp": { $0[0].exp() },
        "log": { $0[0].log() },
        "sqrt": { $0[0].sqrt() },
        "abs": { $0[0].abs() },
        "pow_2": { $0[0].pow(2) },
        "pow_1.5": { $0[0].pow(1.5) },
        "pow_-0.5": { $0[0].pow(-0.5) },
        "clamp_-0.5_0.7": { $0[0].clamp(min: -0.5, max: 0.7) },
        "clamp_min_-0.5": { $0[0].clamp(min: -0.5, max: nil) },
        "clamp_max_0.7": { $0[0].clamp(min: nil, max: 0.7) },
        "relu": { $0[0].relu() },
        "leaky_relu_0.1": { $0[0].leakyRelu(slope: 0.1) },
        "leaky_relu_default": { $0[0].leakyRelu() },
        "gelu": { $0[0].gelu() },
        "sigmoid": { $0[0].sigmoid() },
        "tanh": { $0[0].tanh() },
        "sum": { $0[0].sum() },
        "sum_axes_1": { $0[0].sum(axes: [1]) },
        "sum_axes_0_2_keep": { $0[0].sum(axes: [0, 2], keepDims: true) },
        "sum_axes_-1": { $0[0].sum(axes: [-1]) },
        "mean": { $0[0].mean() },
        "mean_axes_1_keep": { $0[0].mean(axes: [1], keepDims: true) },
        "mean_axes_0_1": { $0[0].mean(axes: [0, 1]) },
        "max_axis_1": { $0[0].max(axis: 1) },
        "max_axis_-1_keep": { $0[0].max(axis: -1, keepDims: true) },
        "argmax_axis_1": { $0[0].argmax(axis: 1) },
        "variance_axes_1": { $0[0].variance(axes: [1]) },
        "variance_axes_0_2_unbiased_keep": { $0[0].variance(axes: [0, 2], keepDims: true, unbiased: true) },
        "softmax_-1": { $0[0].softmax() },
        "softmax_1": { $0[0].softmax(axis: 1) },
        "log_softmax_-1": { $0[0].logSoftmax() },
        "log_softmax_0": { $0[0].logSoftmax(axis: 0) },
        "softmax_large_logits": { $0[0].softmax(axis: -1) },
        "reshape_-1_6": { $0[0].reshaped([-1, 6]) },
        "flatten_1": { $0[0].flattened() },
        "transpose": { $0[0].transposed() },
        "permute_2_0_1": { $0[0].permuted([2, 0, 1]) },
        "pad_1_0_2_1": { $0[0].padded([(1, 0), (2, 1)], value: 0.5) },
        "concat_1": { Tensor.concat($0, axis: 1) },
        "gather": { $0[0].gathered(classIndices: $0[1]) },
        "one_hot_5": { $0[0].oneHot(classes: 5) },
        "matmul_2d": { $0[0].matmul($0[1]) },
        "matmul_3d": { $0[0].matmul($0[1]) },
        "matmul_3d_2d": { $0[0].matmul($0[1]) },
        "linear_bias": { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) },
        "linear_no_bias": { Tensor.linear($0[0], weight: $0[1], bias: nil) },
        "linear_3d_input": { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) },
    ]

    func assertClose(_ actual: [Float], _ expected: [Float], _ what: String,
                     rel: Float = 1e-5, abs absTol: Float = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() where Swift.abs(a - e) > absTol + rel * Swift.abs(e) {
            XCTFail("\(what)[\(i)]: got \(a), PyTorch \(e)", file: file, line: line)
            return
        }
    }

    func testOpsMatchPyTorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "ops_golden", withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(Set(fixture.cases.map(\.name)), Set(Self.ops.keys), "fixture cases and ops table differ")
        for c in fixture.cases {
            guard let op = Self.ops[c.name] else { continue }
            let inputs = c.inputs.map { input -> Tensor in
                input.dtype == "int32"
                    ? Tensor(shape: Shape(input.shape), int32s: input.values.map { Int32($0) })
                    : Tensor(shape: Shape(input.shape), scalars: input.values, requiresGrad: c.grads != nil)
            }
            let y = op(inputs)
            XCTAssertEqual(y.shape, Shape(c.output.shape), "\(c.name): output shape")
            assertClose(y.scalars, c.output.values, "\(c.name) output")
            guard let w = c.w, let grads = c.grads else { continue }
            (y * Tensor(shape: y.shape, scalars: w)).sum().backward()
            for (k, expected) in grads.enumerated() {
                guard let expected else { continue }
                let g = try XCTUnwrap(inputs[k].grad, "\(c.name): no gradient for input \(k)")
                // Gradients go through one more rounding (the weights), so allow slightly more.
                assertClose(g.scalars, expected, "\(c.name) grad[\(k)]", rel: 2e-5, abs: 2e-6)
            }
        }
    }
}
