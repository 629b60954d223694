import NTrainCore

/// How `normalize` reads its mean and std.
public enum NormalizeUnits: String, Sendable {
    /// Mean/std in pixel units (0...255), as MegEngine's `Normalize(mean=[33.3], std=[78.6])`:
    /// `(x - mean) / std`.
    case pixel
    /// Mean/std for pixels scaled to 0...1, as torchvision's `ToTensor` + `Normalize((0.1307,), (0.3081,))`:
    /// `(x / 255 - mean) / std`.
    case unit

    /// `.unit` when every mean and std is at most 1, else `.pixel`.
    public static func infer(mean: [Float], std: [Float]) -> NormalizeUnits {
        (mean + std).allSatisfy { abs($0) <= 1 } ? .unit : .pixel
    }
}

/// One image transform. Values start as the raw pixel bytes (0...255) and become float32; images are
/// `[C, H, W]` throughout (the datasets store planar images), so `toCHW` is accepted for configs
/// ported from MegEngine/PyTorch and changes nothing.
public enum Transform: Equatable, Sendable {
    /// Per-channel `(x - mean) / std` (one value broadcasts to all channels).
    case normalize(mean: [Float], std: [Float], units: NormalizeUnits)
    /// `x * factor` (e.g. 1/255).
    case scale(Float)
    /// Adds `amount` pixels of `fill` (in the value units at this point of the pipeline) on each side.
    case pad(amount: Int, fill: Float)
    /// Training: pads by `padding` (fill 0) and takes a random `height`×`width` window.
    /// Evaluation: the centred window of the unpadded image (the identity when the sizes agree).
    case randomCrop(height: Int, width: Int, padding: Int)
    /// Training: mirrors left-right with probability `p`. Evaluation: nothing.
    case randomHorizontalFlip(p: Float)
    /// Layout marker; images are already channel-first.
    case toCHW

    /// True for the random augmentations that are skipped (or centred) at evaluation.
    public var isTrainingOnly: Bool {
        switch self {
        case .randomCrop, .randomHorizontalFlip: return true
        default: return false
        }
    }
}

/// A list of transforms compiled into one fused pass per image: the geometric steps become one
/// source-coordinate mapping per sample, and the value steps one 256-entry lookup table per channel,
/// so each output float is read from the uint8 source exactly once.
public struct TransformPipeline: Sendable {
    public let transforms: [Transform]
    public let channels: Int
    public let inputHeight: Int
    public let inputWidth: Int
    private let train: Plan
    private let eval: Plan

    enum Geometry: Sendable {
        case pad(Int)
        case crop(height: Int, width: Int, random: Bool)
        case flip(Float)
    }

    struct Plan: Sendable {
        var steps: [Geometry] = []
        var luts: [[Float]] = []
        var fill: [Float] = []
        var height = 0
        var width = 0
    }

    /// Checks and compiles `transforms` for images of `channels`×`height`×`width`.
    public init(_ transforms: [Transform], channels: Int, height: Int, width: Int) throws {
        self.transforms = transforms
        self.channels = channels
        inputHeight = height
        inputWidth = width
        train = try Self.compile(transforms, training: true, channels: channels, height: height, width: width)
        eval = try Self.compile(transforms, training: false, channels: channels, height: height, width: width)
    }

    /// The `[C, H, W]` each sample comes out as.
    public func outputShape(training: Bool) -> [Int] {
        let p = training ? train : eval
        return [channels, p.height, p.width]
    }

    private static func compile(_ transforms: [Transform], training: Bool, channels: Int, height: Int, width: Int) throws -> Plan {
        var plan = Plan()
        var h = height, w = width
        // Value chain applied so far, kept as a list so the tables are computed with exactly the
        // float operations a step-by-step implementation would do.
        var valueOps: [(Int, Float) -> Float] = []
        var fillAtPad: (value: Float, opsBefore: Int)?
        func perChannel(_ values: [Float], _ name: String) throws -> [Float] {
            if values.count == 1 { return Array(repeating: values[0], count: channels) }
            guard values.count == channels else {
                throw DatasetError.invalidParameter(name: "\(name)", reason: "\(values.count) values for \(channels) channels (give 1 or \(channels))")
            }
            return values
        }
        func addPad(_ fill: Float) throws {
            if let existing = fillAtPad, existing.opsBefore != valueOps.count || existing.value != fill {
                throw DatasetError.invalidParameter(name: "transforms", reason: "two paddings at different stages or with different fills; merge them into one pad")
            }
            fillAtPad = (fill, valueOps.count)
        }
        for t in transforms {
            switch t {
            case let .normalize(mean, std, units):
                let m = try perChannel(mean, "normalize.mean"), s = try perChannel(std, "normalize.std")
                guard s.allSatisfy({ $0 != 0 && $0.isFinite }), m.allSatisfy(\.isFinite) else {
                    throw DatasetError.invalidParameter(name: "normalize", reason: "std must be finite and non-zero, mean finite")
                }
                if units == .unit {
                    valueOps.append { (c: Int, x: Float) -> Float in
                        let scaled: Float = x / 255
                        return (scaled - m[c]) / s[c]
                    }
                } else {
                    valueOps.append { (c: Int, x: Float) -> Float in (x - m[c]) / s[c] }
                }
            case let .scale(f):
                guard f.isFinite else { throw DatasetError.invalidParameter(name: "scale", reason: "factor must be finite") }
                valueOps.append { (_: Int, x: Float) -> Float in x * f }
            case let .pad(amount, fill):
                guard amount >= 0, amount <= 4096 else { throw DatasetError.invalidParameter(name: "pad", reason: "amount \(amount) must be in 0...4096") }
                if amount > 0 {
                    try addPad(fill)
                    plan.steps.append(.pad(amount))
                    h += 2 * amount
                    w += 2 * amount
                }
            case let .randomCrop(ch, cw, padding):
                guard padding >= 0, padding <= 4096, ch > 0, cw > 0 else {
                    throw DatasetError.invalidParameter(name: "random_crop", reason: "size must be positive and padding in 0...4096")
                }
                if training && padding > 0 {
                    try addPad(0)
                    plan.steps.append(.pad(padding))
                    h += 2 * padding
                    w += 2 * padding
                }
                guard ch <= h, cw <= w else {
                    throw DatasetError.invalidParameter(name: "random_crop", reason: "crop \(ch)x\(cw) is larger than the \(h)x\(w) image it applies to")
                }
                if ch != h || cw != w || training { plan.steps.append(.crop(height: ch, width: cw, random: training)) }
                h = ch
                w = cw
            case let .randomHorizontalFlip(p):
                guard p >= 0, p <= 1 else { throw DatasetError.invalidParameter(name: "random_horizontal_flip", reason: "p=\(p) must be in 0...1") }
                if training && p > 0 { plan.steps.append(.flip(p)) }
            case .toCHW:
                break
            }
        }
        plan.height = h
        plan.width = w
        plan.luts = (0..<channels).map { c in
            (0..<256).map { v in valueOps.reduce(Float(v)) { x, op in op(c, x) } }
        }
        plan.fill = (0..<channels).map { c in
            guard let f = fillAtPad else { return 0 }
            return valueOps[f.opsBefore...].reduce(f.value) { x, op in op(c, x) }
        }
        return plan
    }

    /// Transforms one `[C, H, W]` uint8 image into `out` (`outputShape(training:)` floats), drawing
    /// random crop offsets and flips from `generator` (in the order the transforms are listed).
    public func apply(_ image: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<Float>, training: Bool,
                      generator: inout RandomGenerator) {
        let plan = training ? train : eval
        // Output (y, x) reads source (y + ty, sx * x + tx) when inside the source image, else fill.
        var ty = 0, tx = 0, sx = 1
        var h = inputHeight, w = inputWidth
        for step in plan.steps {
            switch step {
            case .pad(let p):
                ty -= p
                tx -= sx * p
                h += 2 * p
                w += 2 * p
            case let .crop(ch, cw, random):
                let oy = random ? generator.int(below: h - ch + 1) : (h - ch) / 2
                let ox = random ? generator.int(below: w - cw + 1) : (w - cw) / 2
                ty += oy
                tx += sx * ox
                h = ch
                w = cw
            case .flip(let p):
                if generator.uniform() < p {
                    tx += sx * (w - 1)
                    sx = -sx
                }
            }
        }
        let srcH = inputHeight, srcW = inputWidth
        // Columns whose source x is inside the image: one contiguous range [x0, x1).
        var x0: Int, x1: Int
        if sx == 1 {
            x0 = max(0, -tx)
            x1 = min(w, srcW - tx)
        } else {
            x0 = max(0, tx - srcW + 1)
            x1 = min(w, tx + 1)
        }
        if x1 < x0 { x1 = x0 }
        for c in 0..<channels {
            let fill = plan.fill[c]
            let src = image + c * srcH * srcW
            let dstPlane = out + c * h * w
            plan.luts[c].withUnsafeBufferPointer { lutBuffer in
                let lut = lutBuffer.baseAddress!
                for y in 0..<h {
                    let row = dstPlane + y * w
                    let sy = y + ty
                    if sy < 0 || sy >= srcH {
                        row.update(repeating: fill, count: w)
                        continue
                    }
                    if x0 > 0 { row.update(repeating: fill, count: x0) }
                    if x1 < w { (row + x1).update(repeating: fill, count: w - x1) }
                    let srcRow = src + sy * srcW
                    if sx == 1 {
                        let s = srcRow + tx
                        for x in x0..<x1 { row[x] = lut[Int(s[x])] }
                    } else {
                        let s = srcRow + tx
                        for x in x0..<x1 { row[x] = lut[Int(s[-x])] }
                    }
                }
            }
        }
    }
}
