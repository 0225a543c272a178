import Foundation

/// How far fine-tuned weights moved from their base, for one tensor or a group of tensors taken as
/// one flattened, concatenated vector. All sums are accumulated in Double.
///
/// - `l1`: mean absolute difference, Σ|a−b| / n (a = fine-tuned, b = base).
/// - `angleDegrees`: the angle between the flattened vectors a and b, in degrees (0 = same direction,
///   90 = orthogonal). Mathematically arccos(⟨a,b⟩ / (|a||b|)); computed as 2·atan2(|â−b̂|, |â+b̂|) with
///   â = a/|a|, b̂ = b/|b| (Kahan's formula), which is accurate for tiny angles where arccos is not, and
///   exactly 0 for identical tensors. When both norms are 0 the angle is 0; when exactly one is, 90.
/// - `relativeFrobenius`: |a−b|_F / |b|_F; 0 when both are 0, +infinity when only the base is all zeros.
/// - `changedFraction`: entries whose bits differ (so −0.0 against +0.0 counts as changed), over n.
/// - `zeroedFraction`: entries with b ≠ 0 and a = 0, over n (all entries, not only the base's non-zeros).
struct Distance: Equatable {
    var elements: Int = 0
    var changed: Int = 0
    var zeroed: Int = 0
    var sumAbsDiff: Double = 0
    /// |a|², |b|², |a−b|².
    var tunedNormSquared: Double = 0
    var baseNormSquared: Double = 0
    var diffNormSquared: Double = 0
    var angleDegrees: Double = 0

    var l1: Double { elements == 0 ? 0 : sumAbsDiff / Double(elements) }
    var relativeFrobenius: Double {
        if diffNormSquared == 0 { return 0 }
        return baseNormSquared == 0 ? .infinity : (diffNormSquared / baseNormSquared).squareRoot()
    }
    var changedFraction: Double { elements == 0 ? 0 : Double(changed) / Double(elements) }
    var zeroedFraction: Double { elements == 0 ? 0 : Double(zeroed) / Double(elements) }
}

/// One fine-tuned tensor beside its base tensor (same shape).
struct TensorPair {
    var tuned: UnsafeBufferPointer<Float>
    var base: UnsafeBufferPointer<Float>
}

enum TensorDistance {
    /// The distance of the concatenation of `pairs` (two passes: sums and norms, then the angle).
    static func measure(_ pairs: [TensorPair]) -> Distance {
        var d = Distance()
        for p in pairs {
            precondition(p.tuned.count == p.base.count, "tensor pair of different sizes")
            var sumAbs = 0.0, na = 0.0, nb = 0.0, nd = 0.0
            var changed = 0, zeroed = 0
            for i in 0..<p.tuned.count {
                let a = p.tuned[i], b = p.base[i]
                let x = Double(a), y = Double(b)
                let diff = x - y
                sumAbs += Swift.abs(diff)
                na += x * x; nb += y * y; nd += diff * diff
                if a.bitPattern != b.bitPattern { changed += 1 }
                if b != 0 && a == 0 { zeroed += 1 }
            }
            d.elements += p.tuned.count
            d.sumAbsDiff += sumAbs
            d.tunedNormSquared += na; d.baseNormSquared += nb; d.diffNormSquared += nd
            d.changed += changed; d.zeroed += zeroed
        }
        d.angleDegrees = angle(pairs, tunedNorm: d.tunedNormSquared.squareRoot(), baseNorm: d.baseNormSquared.squareRoot())
        return d
    }

    /// 2·atan2(|â−b̂|, |â+b̂|) in degrees over the concatenated vectors.
    static func angle(_ pairs: [TensorPair], tunedNorm: Double, baseNorm: Double) -> Double {
        if tunedNorm == 0 && baseNorm == 0 { return 0 }
        if tunedNorm == 0 || baseNorm == 0 { return 90 }
        guard tunedNorm.isFinite && baseNorm.isFinite else { return .nan }
        var minus = 0.0, plus = 0.0
        for p in pairs {
            for i in 0..<p.tuned.count {
                let x = Double(p.tuned[i]) / tunedNorm, y = Double(p.base[i]) / baseNorm
                minus += (x - y) * (x - y)
                plus += (x + y) * (x + y)
            }
        }
        return 2 * atan2(minus.squareRoot(), plus.squareRoot()) * 180 / Double.pi
    }
}
