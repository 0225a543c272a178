/// `Materialize`: dense weights from the base and a mask, for layers that compute densely.
public enum Materialize {
    /// A copy of `base` with every position set in `zeroed` replaced by +0.0.
    public static func applyMask(base: UnsafeBufferPointer<Float>, zeroed: Bitmap) -> [Float] {
        precondition(base.count == zeroed.n, "Materialize.applyMask: base has \(base.count) entries, mask \(zeroed.n)")
        var out = Array(base)
        out.withUnsafeMutableBufferPointer { o in
            zeroed.forEachSet { o[$0] = 0 }
        }
        return out
    }
}
