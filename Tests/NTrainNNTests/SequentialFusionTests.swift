import XCTest
@testable import NTrainCore
@testable import NTrainNN

/// `Sequential` runs Conv2d → ReLU → MaxPool2d as one fused op; nothing observable may change.
final class SequentialFusionTests: XCTestCase {
    private func outputAndGradients(_ model: Sequential, _ x: Tensor, training: Bool) -> [[UInt32]] {
        model.train(training)
        for p in model.parameters { p.grad = nil }
        let y = model(x)
        guard training else { return [y.scalars.map(\.bitPattern)] }
        var rng = RandomGenerator(seed: 5)
        let r = Tensor(shape: y.shape, scalars: (0..<y.count).map { _ in rng.uniform(-1, 1) })
        (y * r).sum().backward()
        return [y.scalars.map(\.bitPattern)] + model.parameters.map { $0.grad!.scalars.map(\.bitPattern) }
    }

    func testBuiltInModelsGiveTheSameValuesAndGradientsFusedOrNot() throws {
        for (arch, input) in [(BuiltinModel.lenet, Shape([1, 32, 32])), (.cifarCNN, Shape([3, 32, 32])), (.convBN, Shape([3, 12, 12])),
                              (.lenet5, Shape([1, 28, 28]))] {
            let model = try arch.make(input: input, outputs: 10, seed: 3)
            var rng = RandomGenerator(seed: 4)
            let x = Tensor(shape: Shape([7] + input.dims), scalars: (0..<(7 * input.count)).map { _ in rng.uniform(-1, 1) })
            for training in [true, false] {
                model.fusesLayers = false
                let separate = outputAndGradients(model, x, training: training)
                model.fusesLayers = true
                let fused = outputAndGradients(model, x, training: training)
                XCTAssertEqual(fused, separate, "\(arch) training: \(training)")
            }
        }
    }

    func testOnlyConvReluMaxPoolRunsAreFused() throws {
        var g = RandomGenerator(seed: 1)
        func lastOp(_ act: Activation.Kind, _ pool: Pool2d.Kind, fuses: Bool = true) throws -> String? {
            let model = Sequential([try Conv2d(1, 2, kernel: (3, 3), generator: &g), Activation(act), try Pool2d(pool, kernel: (2, 2))])
            model.fusesLayers = fuses
            let x = Tensor(shape: [1, 1, 8, 8], scalars: (0..<64).map { Float($0 % 7) / 7 - 0.4 }, requiresGrad: true)
            return model(x).gradNode?.name
        }
        XCTAssertEqual(try lastOp(.relu, .max), "conv2d_relu_max_pool2d")
        XCTAssertEqual(try lastOp(.relu, .max, fuses: false), "maxPool2d")
        XCTAssertEqual(try lastOp(.gelu, .max), "maxPool2d")
        XCTAssertEqual(try lastOp(.gelu, .average), "conv2d_gelu_avg_pool2d")
        XCTAssertEqual(try lastOp(.gelu, .average, fuses: false), "avgPool2d")
        XCTAssertEqual(try lastOp(.relu, .average), "avgPool2d")
        // A ReLU → max pool pair after another layer is fused on its own.
        let model = Sequential([try Conv2d(1, 2, kernel: (3, 3), generator: &g), BatchNorm(features: 2, spatial: true),
                                Activation(.relu), try Pool2d(.max, kernel: (2, 2))])
        let x = Tensor(shape: [2, 1, 8, 8], scalars: (0..<128).map { Float($0 % 9) / 9 - 0.4 }, requiresGrad: true)
        XCTAssertEqual(model(x).gradNode?.name, "relu_max_pool2d")
    }

    /// The fusion pass runs inside blocks too: a residual body of conv → ReLU → max pool is one
    /// fused op, with the same values and gradients as the separate layers; names are unchanged.
    func testResidualBodiesKeepTheFusedKernels() throws {
        var g = RandomGenerator(seed: 2)
        let body = Sequential([try Conv2d(2, 2, kernel: (3, 3), padding: (1, 1), generator: &g), Activation(.relu), try Pool2d(.max, kernel: (2, 2))])
        let block = Branches.residual(body: body, shortcut: Sequential([try Pool2d(.average, kernel: (2, 2))]))
        var rng = RandomGenerator(seed: 6)
        let x = Tensor(shape: [3, 2, 8, 8], scalars: (0..<384).map { _ in rng.uniform(-1, 1) }, requiresGrad: true)
        let y = block(x)
        XCTAssertEqual(y.gradNode?.inputs.first?.gradNode?.name, "conv2d_relu_max_pool2d", "the body ran fused")
        XCTAssertEqual(block.namedParameters().map(\.0), ["body.0.weight", "body.0.bias"])
        func run(_ fuse: Bool) -> [[UInt32]] {
            body.fusesLayers = fuse
            for p in block.parameters { p.grad = nil }
            x.grad = nil
            let out = block(x)
            out.sum().backward()
            return [out.scalars, x.grad!.scalars, body.parameters[0].grad!.scalars].map { $0.map(\.bitPattern) }
        }
        XCTAssertEqual(run(true), run(false))
    }
}
