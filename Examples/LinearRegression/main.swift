// MindSpore's linear-regression tutorial with ntrain's library: fit y = 2x + 3 + noise with one
// Dense(1, 1) layer initialised from Normal(0.02), MSE loss and SGD with momentum.
//
//     swift run linear-regression-example
import NTrainCore
import NTrainNN

var generator = RandomGenerator(seed: 5)
let count = 1600, batch = 16
let xs = (0..<count).map { _ in generator.uniform(-10, 10) }
let ys = xs.map { 2 * $0 + 3 + generator.normal() }

let model = Linear(1, 1, initializer: .normal(std: 0.02), generator: &generator)
let optimizer = try SGD(parameters: model.parameters, learningRate: 0.005, momentum: 0.9)

for epoch in 1...10 {
    var total: Float = 0
    for start in stride(from: 0, to: count, by: batch) {
        let x = Tensor(shape: [batch, 1], scalars: Array(xs[start..<start + batch]))
        let y = Tensor(shape: [batch, 1], scalars: Array(ys[start..<start + batch]))
        let loss = mseLoss(model(x), y)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    }
    print("epoch \(epoch): loss \(total / Float(count / batch))  w \(model.weight.item())  b \(model.bias!.item())")
}
