/// A seeded, splittable pseudo-random generator (xoshiro256**) whose whole state can be saved in a
/// checkpoint and restored, so a resumed run draws exactly the numbers an uninterrupted one would.
public struct RandomGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    /// The four 64-bit words of xoshiro256** state.
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        var sm = seed
        state = (0..<4).map { _ in RandomGenerator.splitMix64(&sm) }
    }

    /// Restores a generator from `state` (as saved from another generator).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "generator state must be 4 words, not all zero")
        self.state = state
    }

    /// A generator for a sub-stream, e.g. `(seed, epoch)` for the data order of one epoch.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1))
    }

    private static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = RandomGenerator.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = RandomGenerator.rotl(state[3], 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (exactly representable floats).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal via Box–Muller (one draw per call; no cached spare, so state stays simple).
    public mutating func normal(mean: Float = 0, std: Float = 1) -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2.0 * _log(1.0 - u1)).squareRoot()
        return mean + std * Float(r * _cos(2.0 * Double.pi * u2))
    }

    /// True with probability `p`.
    public mutating func bernoulli(_ p: Float) -> Bool { uniform() < p }

    /// Uniform integer in 0..<n without modulo bias.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        return Int(next(upperBound: UInt64(n)))
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                p.swapAt(i, int(below: i + 1))
            }
        }
        return p
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
