/// The model input the tokenizer produces for one text or text pair: token ids with the
/// [CLS]/[SEP] specials added, and the segment (token type) id of each token.
public struct Encoding: Equatable, Sendable {
    /// Vocabulary ids, `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`.
    public var ids: [Int32]
    /// 0 for `[CLS]`, A and its `[SEP]`; 1 for B and its `[SEP]`.
    public var typeIds: [Int32]

    public init(ids: [Int32], typeIds: [Int32]) {
        self.ids = ids
        self.typeIds = typeIds
    }
}
