import Foundation
import NTrainCore

/// Gradient clipping and checks, as `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`.
/// Parameters without a gradient are ignored. The work is the gradients' backend's.

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
    let grads = parameters.compactMap(\.grad)
    guard !grads.isEmpty else { return 0 }
    return Tensor.backend(for: grads).clipGradNorm(grads, maxNorm: maxNorm, normType: normType)
}

/// Clamps every gradient element into `[-clipValue, clipValue]` (PyTorch's `clip_grad_value_`).
public func clipGradValue(_ parameters: [Tensor], clipValue: Float) {
    let grads = parameters.compactMap(\.grad)
    Tensor.backend(for: grads).clipGradValue(grads, clipValue: clipValue)
}

/// Whether every gradient element of `parameters` is finite (no NaN or ±Inf); parameters without a
/// gradient count as finite. Used by the NaN guard before an optimizer step.
public func gradientsAreFinite(_ parameters: [Tensor]) -> Bool {
    // One call per device: on a GPU one device sum over all of them, so one value is read back per step.
    Tensor.byDevice(parameters.compactMap(\.grad)).allSatisfy { $0[0].backend.allFinite($0) }
}
