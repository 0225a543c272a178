/// Synthetic benchmark inputs: batches of exactly `seq` tokens, [CLS] first and [SEP] last, random
/// ids in between drawn deterministically from the vocabulary above the special/rare region.
import BertRuntime
import BertTokenizer

enum BenchInputs {
    /// ids are drawn from 1000...vocab-1 (from vocab/2 when the vocabulary has at most 1000 entries,
    /// as the tiny fixtures do); the generator is seeded so every run times the same tokens.
    static func batch(tokenizer: WordPieceTokenizer, batch: Int, seq: Int, seed: UInt64 = 0x5EED) -> Batch {
        let specials = tokenizer.encode("", maxLength: 2).ids
        let cls = specials.first ?? 0, sep = specials.last ?? 0
        let vocab = tokenizer.vocabSize
        let lo = vocab > 1000 ? 1000 : vocab / 2
        let span = UInt64(max(1, vocab - lo))
        var rng = SplitMix64(seed: seed)
        var rows: [(ids: [Int32], typeIds: [Int32])] = []
        for _ in 0..<batch {
            var ids = [Int32](repeating: 0, count: seq)
            for s in 0..<seq { ids[s] = Int32(lo + Int(rng.next() % span)) }
            ids[0] = cls
            ids[seq - 1] = sep
            rows.append((ids, [Int32](repeating: 0, count: seq)))
        }
        return Batch(rows: rows, padId: tokenizer.padId)
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
