/// The scan `bertc compile` runs over every weight before it writes anything: NaN and infinite
/// values are counted per tensor (with a C loop that streams BERT-base's 440 MB well under a
/// second) and refused, naming the tensors, unless the user allows them (`--allow-nonfinite`).
import BertIR
import CBertKernels

public enum NonFiniteScan {
    /// One tensor with non-finite entries.
    public struct Finding: Hashable, Sendable {
        public var name: String
        public var nan: Int
        public var inf: Int
        public init(name: String, nan: Int, inf: Int) { self.name = name; self.nan = nan; self.inf = inf }
    }

    /// The NaN and infinity counts of one buffer.
    public static func count(_ b: UnsafeBufferPointer<Float>) -> (nan: Int, inf: Int) {
        guard let p = b.baseAddress, b.count > 0 else { return (0, 0) }
        var nan = 0, inf = 0
        bk_count_nonfinite(p, b.count, &nan, &inf)
        return (nan, inf)
    }

    /// Every tensor of `weights` holding NaN or infinite values, in name order.
    public static func scan(_ weights: WeightStore) -> [Finding] {
        weights.names.compactMap { name in
            guard let t = weights[name] else { return nil }
            let (nan, inf) = count(t.buffer)
            return nan + inf > 0 ? Finding(name: name, nan: nan, inf: inf) : nil
        }
    }

    /// "3 NaN and 1 Inf values", "2 NaN values", "1 Inf value".
    public static func describe(_ f: Finding) -> String {
        var parts: [String] = []
        if f.nan > 0 { parts.append("\(f.nan) NaN") }
        if f.inf > 0 { parts.append("\(f.inf) Inf") }
        return parts.joined(separator: " and ") + (f.nan + f.inf == 1 ? " value" : " values")
    }

    /// The one-line fault for `findings` (non-empty): the first three tensors by name, then a count.
    public static func message(_ findings: [Finding]) -> String {
        let shown = findings.prefix(3).enumerated().map { i, f in
            (i == 0 ? "tensor '\(f.name)' has " : "'\(f.name)' has ") + describe(f)
        }
        var s = shown.joined(separator: ", ")
        if findings.count > 3 { s += " and \(findings.count - 3) more tensor\(findings.count == 4 ? "" : "s") have non-finite values" }
        return s
    }

    /// Throws a `BertError` naming `file` when any tensor of `weights` is not finite.
    public static func check(_ weights: WeightStore, file: String) throws {
        let found = scan(weights)
        guard !found.isEmpty else { return }
        throw BertError(file, message(found) + " (use --allow-nonfinite to compile anyway)")
    }
}
