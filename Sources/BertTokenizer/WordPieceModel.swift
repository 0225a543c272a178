/// The WordPiece model: greedy longest-match-first segmentation of one word against the
/// vocabulary, `##` marking continuation pieces. Lookups compare UTF-8 bytes exactly, as the
/// reference does (Swift `String` equality would also match canonically equivalent spellings).

struct WordPieceModel: Sendable {
    /// Vocabulary entry (UTF-8 bytes) to id; the first line wins for duplicates.
    let ids: [[UInt8]: Int32]
    let unkId: Int32
    /// Longest entry in scalars, and longest `##` entry without its prefix: bounds the search.
    let maxHeadScalars: Int
    let maxTailScalars: Int
    static let maxInputCharsPerWord = 100

    init(vocab: [String], unkId: Int32) {
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(vocab.count)
        var maxHead = 0, maxTail = 0
        for (i, token) in vocab.enumerated() {
            let bytes = Array(token.utf8)
            if ids[bytes] == nil { ids[bytes] = Int32(truncatingIfNeeded: i) }
            let n = token.unicodeScalars.count
            maxHead = max(maxHead, n)
            if bytes.count >= 2 && bytes[0] == 0x23 && bytes[1] == 0x23 { maxTail = max(maxTail, n - 2) }
        }
        self.ids = ids
        self.unkId = unkId
        self.maxHeadScalars = maxHead
        self.maxTailScalars = maxTail
    }

    func id(of token: String) -> Int32? { ids[Array(token.utf8)] }

    /// Appends the ids of `word` (scalar values) to `out`: its pieces, or one [UNK] when the word
    /// is too long or some part of it matches nothing.
    func tokenize(_ word: ArraySlice<UInt32>, into out: inout [Int32]) {
        let n = word.count
        if n == 0 { return }
        if n > Self.maxInputCharsPerWord { out.append(unkId); return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(n * 2)
        var offsets: [Int] = [0]
        offsets.reserveCapacity(n + 1)
        for v in word {
            Self.appendUTF8(v, to: &bytes)
            offsets.append(bytes.count)
        }
        let mark = out.count
        var key: [UInt8] = []
        key.reserveCapacity(bytes.count + 2)
        var start = 0
        while start < n {
            var end = min(n, start + (start == 0 ? maxHeadScalars : maxTailScalars))
            var found: Int32? = nil
            while end > start {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(0x23); key.append(0x23) }
                key.append(contentsOf: bytes[offsets[start]..<offsets[end]])
                if let id = ids[key] { found = id; break }
                end -= 1
            }
            guard let id = found else {
                out.removeSubrange(mark...)
                out.append(unkId)
                return
            }
            out.append(id)
            start = end
        }
    }

    /// UTF-8 encoding of one scalar value.
    @inline(__always)
    static func appendUTF8(_ v: UInt32, to bytes: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            bytes.append(UInt8(v))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | (v >> 6))); bytes.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | (v >> 12))); bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | ((v >> 18) & 0x07))); bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F))); bytes.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
