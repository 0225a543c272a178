/// Splitting raw text on the special tokens written literally in it ("[SEP]", "[MASK]", ...): the
/// reference matches its added tokens on the raw text before normalization (leftmost, longest)
/// and maps each to its own id.

struct SpecialTokens: Sendable {
    /// The specials present in the vocabulary, as scalar values with their ids.
    let tokens: [(scalars: [UInt32], id: Int32)]
    /// The first scalar of each special, to skip other positions quickly.
    let firstScalars: Set<UInt32>

    static let names = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    init(lookup: (String) -> Int32?) {
        let found = Self.names.compactMap { name in
            lookup(name).map { (scalars: Array(name.unicodeScalars.map(\.value)), id: $0) }
        }
        tokens = found
        firstScalars = Set(found.compactMap { $0.scalars.first })
    }

    enum Piece {
        case text(Range<Int>)
        case special(Int32)
    }

    /// The text split into plain-text ranges and special tokens, in order.
    func split(_ text: [UInt32]) -> [Piece] {
        var pieces: [Piece] = []
        var plainStart = 0
        var i = 0
        while i < text.count {
            if !firstScalars.contains(text[i]) { i += 1; continue }
            var best: (len: Int, id: Int32)? = nil
            for t in tokens where t.scalars.count <= text.count - i && t.scalars.count > (best?.len ?? 0) {
                if text[i..<(i + t.scalars.count)].elementsEqual(t.scalars) { best = (t.scalars.count, t.id) }
            }
            if let b = best {
                if plainStart < i { pieces.append(.text(plainStart..<i)) }
                pieces.append(.special(b.id))
                i += b.len
                plainStart = i
            } else {
                i += 1
            }
        }
        if plainStart < text.count { pieces.append(.text(plainStart..<text.count)) }
        return pieces
    }
}
