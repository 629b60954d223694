import Foundation
import NTrainCore

/// Gradient clipping and checks, as `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`.
/// Parameters without a gradient are ignored.

/// Scales all gradients in place so that their global norm is at most `maxNorm`, and returns the
/// global norm before clipping (PyTorch's `clip_grad_norm_`).
///
/// The global norm is the `normType`-norm of the per-tensor norms (`.infinity` for the max norm).
/// When it exceeds `maxNorm`, every gradient is multiplied by `maxNorm / (norm + 1e-6)`; otherwise
/// gradients are left untouched. A non-finite norm is returned as is (gradients are then scaled by
/// NaN, as in PyTorch): check `gradientsAreFinite` first when using a NaN guard.
/// Norms are accumulated in double precision, in parameter order (deterministic).
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float, normType: Float = 2) -> Float {
    precondition(normType > 0, "clipGradNorm: normType must be > 0 (or .infinity), got \(normType)")
    let grads = parameters.compactMap { $0.grad }
    guard !grads.isEmpty else { return 0 }
    if grads.contains(where: { $0.device != .cpu }) {
        return onHostCopies(grads) { clipGradNorm($0, maxNorm: maxNorm, normType: normType) }
    }
    let total: Double
    if normType == .infinity {
        var m = 0.0
        for g in grads { m = max(m, Double(maxAbs(g))) }
        total = m
    } else {
        var acc = 0.0
        for g in grads {
            let norm = vectorNorm(g, p: Double(normType))
            acc += normType == 1 ? norm : pow(norm, Double(normType))
        }
        total = normType == 1 ? acc : pow(acc, 1 / Double(normType))
    }
    let totalNorm = Float(total)
    // PyTorch: coef = max_norm / (total + 1e-6), clamped to 1, computed in float32.
    let coef = maxNorm / (totalNorm + 1e-6)
    if !(coef >= 1) {
        for g in grads {
            let d = g.data
            for j in 0..<g.count { d[j] = d[j] * coef }
        }
    }
    return totalNorm
}

/// Clamps every gradient element into `[-clipValue, clipValue]` (PyTorch's `clip_grad_value_`).
public func clipGradValue(_ parameters: [Tensor], clipValue: Float) {
    let hi = abs(clipValue), lo = -hi
    let grads = parameters.compactMap { $0.grad }
    if grads.contains(where: { $0.device != .cpu }) { return onHostCopies(grads) { clipGradValue($0, clipValue: clipValue) } }
    for p in parameters {
        guard let g = p.grad else { continue }
        let d = g.data
        for j in 0..<g.count {
            let x = d[j]
            // NaN stays NaN, as in torch.clamp.
            d[j] = x < lo ? lo : (x > hi ? hi : x)
        }
    }
}

/// Whether every gradient element of `parameters` is finite (no NaN or ±Inf); parameters without a
/// gradient count as finite. Used by the NaN guard before an optimizer step.
public func gradientsAreFinite(_ parameters: [Tensor]) -> Bool {
    // GPU gradients: one device sum over all of them, so one value is read back per step.
    let onDevice = parameters.compactMap { $0.grad }.filter { $0.device != .cpu }
    if !onDevice.isEmpty && !CUDAOps.allFinite(onDevice) { return false }
    for p in parameters {
        guard let g = p.grad, g.device == .cpu else { continue }
        let n = g.count
        // A float is ±Inf or NaN exactly when its exponent bits are all ones, i.e. |bits| ≥ 0x7f80_0000.
        // An integer max over the magnitudes is branch-free and vectorises (a float sum would not).
        let largest = UnsafeMutableRawPointer(g.data).withMemoryRebound(to: UInt32.self, capacity: n) { bits in
            var m: UInt32 = 0
            for j in 0..<n { m = max(m, bits[j] & 0x7fff_ffff) }
            return m
        }
        if largest >= 0x7f80_0000 { return false }
    }
    return true
}

/// The p-norm of one tensor, in double precision (a float32 result is then taken by the caller).
/// Runs a CPU clipping function on host copies of GPU gradients and copies the results back
/// (clipping is rare enough that the round trip is simpler than GPU norm kernels).
private func onHostCopies<R>(_ grads: [Tensor], _ body: ([Tensor]) -> R) -> R {
    let hosts = grads.map { g -> Tensor in let p = Tensor(uninitialized: g.shape); p.grad = g.to(.cpu); return p }
    let result = body(hosts)
    for (g, h) in zip(grads, hosts) { g.assign(h.grad!) }
    return result
}

private func vectorNorm(_ t: Tensor, p: Double) -> Double {
    let d = t.data, n = t.count
    if p == 2 {
        var s = 0.0
        for j in 0..<n { let x = Double(d[j]); s += x * x }
        return s.squareRoot()
    }
    if p == 1 {
        var s = 0.0
        for j in 0..<n { s += Double(abs(d[j])) }
        return s
    }
    var s = 0.0
    for j in 0..<n { s += pow(Double(abs(d[j])), p) }
    return pow(s, 1 / p)
}

private func maxAbs(_ t: Tensor) -> Float {
    let d = t.data
    var m: Float = 0
    for j in 0..<t.count {
        let a = abs(d[j])
        m = (a > m || a.isNaN) ? a : m // NaN propagates, as in torch's max norm
    }
    return m
}
