/// Sentence-level reductions applied after the graph: pooling, normalisation, softmax.
public enum Pooling: String, Sendable, CaseIterable {
    case cls, mean

    /// Pools `hidden` [batch, seq, h] to [h] for row `b` using its attention mask.
    public func pool(_ hidden: UnsafeBufferPointer<Float>, batch b: Int, seq: Int, hidden h: Int,
                     mask: [Int32]) -> [Float] {
        switch self {
        case .cls:
            return Array(hidden[(b * seq * h)..<(b * seq * h + h)])
        case .mean:
            // As sentence-transformers: sum of masked token vectors / max(count, 1e-9).
            var sum = [Float](repeating: 0, count: h)
            var count: Float = 0
            for s in 0..<seq where mask[b * seq + s] != 0 {
                let base = (b * seq + s) * h
                for j in 0..<h { sum[j] += hidden[base + j] }
                count += 1
            }
            let denom = max(count, 1e-9)
            return sum.map { $0 / denom }
        }
    }
}

/// L2 normalisation as torch.nn.functional.normalize (eps 1e-12).
public func l2Normalize(_ v: [Float]) -> [Float] {
    var norm: Float = 0
    for x in v { norm += x * x }
    let d = max(norm.squareRoot(), 1e-12)
    return v.map { $0 / d }
}

/// Numerically stable softmax.
public func softmax(_ v: [Float]) -> [Float] {
    guard let m = v.max() else { return [] }
    let e = v.map { expf($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
