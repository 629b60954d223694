/// One recorded op in the autograd graph: its inputs and how to map the output's gradient to theirs.
public final class GradNode {
    public let name: String
    public let inputs: [Tensor]
    /// Returns one gradient per input (nil where an input needs none), each shaped like that input.
    let backward: (Tensor) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether ops record history. Training code runs with it on; `noGrad {}` turns it off.
public enum GradMode {
    nonisolated(unsafe) public private(set) static var isEnabled = true

    /// Runs `body` without recording (eval, optimizer updates), restoring the previous mode after.
    @discardableResult
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        let saved = isEnabled
        isEnabled = false
        defer { isEnabled = saved }
        return try body()
    }
}

/// Runs `body` without recording autograd history (PyTorch's `torch.no_grad()`).
@discardableResult
public func noGrad<T>(_ body: () throws -> T) rethrows -> T { try GradMode.noGrad(body) }

extension Tensor {
    /// Attaches a backward function to `self` (an op's fresh output) when any input needs a gradient.
    /// Ops call this once after computing their result; it is a no-op under `noGrad`.
    @discardableResult
    public func recorded(_ name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        gradNode = GradNode(name: name, inputs: inputs, backward: backward)
        return self
    }

    /// Whether this tensor has no recorded history (a parameter or an input).
    public var isLeaf: Bool { gradNode == nil }

    /// Reverse-mode differentiation from this tensor. Without `gradient`, `self` must be a scalar
    /// and its gradient is 1. Gradients accumulate into the `.grad` of leaf tensors that require
    /// them; the graph is freed afterwards unless `retainGraph`.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape, "backward: gradient shape \(gradient.shape) ≠ tensor shape \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward() without a gradient needs a scalar, shape is \(shape)")
            seed = Tensor.full(shape, 1, device: device)
        }
        guard requiresGrad else { return }

        // Topological order by iterative DFS (graphs can be deep; no recursion).
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.gradNode?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        GradMode.noGrad {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.gradNode else {
                    t.accumulateGrad(g)
                    continue
                }
                let inputGrads = node.backward(g)
                precondition(inputGrads.count == node.inputs.count, "\(node.name): backward returned \(inputGrads.count) grads for \(node.inputs.count) inputs")
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard input.requiresGrad, let ig else { continue }
                    precondition(ig.shape == input.shape, "\(node.name): gradient shape \(ig.shape) ≠ input shape \(input.shape)")
                    let key = ObjectIdentifier(input)
                    if let existing = grads[key] {
                        grads[key] = Kernels.add(existing, ig)
                    } else {
                        grads[key] = ig
                    }
                }
            }
        }
        if !retainGraph {
            for t in order { t.gradNode = nil }
        }
    }

    /// Adds `g` into `.grad` (creating it), as PyTorch accumulates across backward calls.
    func accumulateGrad(_ g: Tensor) {
        if let existing = grad {
            _ = existing.addingInPlace(g)
        } else {
            // Own the buffer: `g` may alias storage an op still uses.
            grad = g.copy()
        }
    }

    /// `self += other` elementwise (same shape), returning self.
    @discardableResult
    public func addingInPlace(_ other: Tensor) -> Tensor {
        precondition(other.shape == shape, "in-place add: \(other.shape) into \(shape)")
        backend.accumulate(self, other)
        return self
    }
}
