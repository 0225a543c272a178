/// Truncation of encoded sequences to a total length, as the Hugging Face `tokenizers`
/// `truncate_encodings` does with the longest_first strategy and right-side truncation.

enum Truncation {
    /// Lengths to keep for a pair of sequences of lengths `a` and `b` within `budget` tokens
    /// (specials already subtracted). Assuming n1 <= n2: keep the shorter whole and give the rest to
    /// the longer; when both must shrink, the shorter gets budget/2 and the longer the remainder
    /// (on a tie, the second sequence is the longer one).
    static func pairLengths(_ a: Int, _ b: Int, budget: Int) -> (Int, Int) {
        if budget <= 0 { return (0, 0) }
        if a + b <= budget { return (a, b) }
        let swap = a > b
        var n1 = swap ? b : a
        var n2: Int
        if n1 > budget {
            n2 = n1
        } else {
            n2 = max(n1, budget - n1)
        }
        if n1 + n2 > budget {
            n1 = budget / 2
            n2 = n1 + budget % 2
        }
        return swap ? (min(a, n2), min(b, n1)) : (min(a, n1), min(b, n2))
    }
}
