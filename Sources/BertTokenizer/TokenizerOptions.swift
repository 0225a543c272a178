/// Options of the BERT tokenizer: the normalizer switches of a Hugging Face `BertNormalizer`
/// (text cleaning is always on, as in every BERT checkpoint).
public struct TokenizerOptions: Sendable, Equatable {
    /// Lowercase the text (Unicode full lowercase mapping, one character at a time).
    public var doLowerCase: Bool
    /// Strip accents (NFD, then drop non-spacing marks); nil follows `doLowerCase`.
    public var stripAccents: Bool?
    /// Put spaces around CJK ideographs so that each becomes its own word.
    public var tokenizeChineseChars: Bool

    public init(doLowerCase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseChars: Bool = true) {
        self.doLowerCase = doLowerCase
        self.stripAccents = stripAccents
        self.tokenizeChineseChars = tokenizeChineseChars
    }

    /// Whether accents are stripped once `nil` is resolved.
    var effectiveStripAccents: Bool { stripAccents ?? doLowerCase }
}
