/// The BERT pre-tokenizer: split normalized text into words on whitespace (dropped) and around
/// every punctuation character (kept as a one-character word).

enum BertPreTokenizer {
    /// The words of `text` as index ranges into it.
    static func words(_ text: [UInt32]) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start = 0
        for i in 0..<text.count {
            let v = text[i]
            if CharacterClasses.isWhitespace(v) {
                if start < i { words.append(start..<i) }
                start = i + 1
            } else if CharacterClasses.isPunctuation(v) {
                if start < i { words.append(start..<i) }
                words.append(i..<(i + 1))
                start = i + 1
            }
        }
        if start < text.count { words.append(start..<text.count) }
        return words
    }
}
