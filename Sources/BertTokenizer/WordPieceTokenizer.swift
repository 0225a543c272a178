/// The BERT WordPiece tokenizer: vocabulary loading, text to wordpiece tokens, and encoding of a
/// text or text pair into `[CLS] A [SEP] (B [SEP])` ids with token types and truncation. Matches the
/// Hugging Face `tokenizers` BertNormalizer + BertPreTokenizer + WordPiece + BERT post-processor.
import BertIR
import Foundation

public final class WordPieceTokenizer: Sendable {
    /// Tokens by id (vocab.txt lines).
    let vocab: [String]
    let options: TokenizerOptions
    let normalizer: BertNormalizer
    let model: WordPieceModel
    let specials: SpecialTokens
    let clsId: Int32
    let sepId: Int32
    public let padId: Int32

    public var vocabSize: Int { vocab.count }

    public init(vocab: [String], options: TokenizerOptions, file: String = "vocab.txt") throws {
        guard vocab.count <= Int(Int32.max) else {
            throw BertError(file, "vocabulary has \(vocab.count) entries, more than an Int32 id can hold")
        }
        var firstId: [String: Int32] = [:]
        for name in SpecialTokens.names {
            if let i = vocab.firstIndex(where: { $0.utf8.elementsEqual(name.utf8) }) { firstId[name] = Int32(i) }
        }
        guard let unk = firstId["[UNK]"] else { throw BertError(file, "vocabulary has no [UNK] token") }
        guard let cls = firstId["[CLS]"] else { throw BertError(file, "vocabulary has no [CLS] token") }
        guard let sep = firstId["[SEP]"] else { throw BertError(file, "vocabulary has no [SEP] token") }
        self.vocab = vocab
        self.options = options
        self.normalizer = BertNormalizer(options: options)
        self.model = WordPieceModel(vocab: vocab, unkId: unk)
        self.specials = SpecialTokens(lookup: { firstId[$0] })
        self.clsId = cls
        self.sepId = sep
        self.padId = firstId["[PAD]"] ?? 0
    }

    /// The lines of a vocab.txt file (a trailing "\n" or "\r\n" is removed from each; a final
    /// newline does not start an extra entry). The line number is the token id.
    public static func loadVocab(path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BertError(path, "cannot read vocabulary file")
        }
        let bytes = [UInt8](data)
        var lines: [String] = []
        var start = 0
        var lineNo = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            let next = end + 1
            if end > start && bytes[end - 1] == 0x0D && end < bytes.count { end -= 1 }
            lineNo += 1
            guard let line = String(validating: bytes[start..<end], as: UTF8.self) else {
                throw BertError(path, "line \(lineNo) is not valid UTF-8")
            }
            lines.append(line)
            start = next
        }
        if lines.isEmpty { throw BertError(path, "vocabulary file is empty") }
        return lines
    }

    /// Ids of the wordpieces of `text` (no [CLS]/[SEP] added).
    func pieceIds(_ text: String) -> [Int32] {
        let scalars = text.unicodeScalars.map(\.value)
        var out: [Int32] = []
        out.reserveCapacity(scalars.count / 3 + 4)
        for piece in specials.split(scalars) {
            switch piece {
            case .special(let id):
                out.append(id)
            case .text(let range):
                let normalized = normalizer.normalize(scalars[range])
                for word in BertPreTokenizer.words(normalized) {
                    model.tokenize(normalized[word], into: &out)
                }
            }
        }
        return out
    }

    /// The wordpiece tokens of `text`, without [CLS]/[SEP].
    public func tokenize(_ text: String) -> [String] {
        pieceIds(text).map { Int($0) < vocab.count ? vocab[Int($0)] : "[UNK]" }
    }

    /// `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, truncated so the total (specials included) is at
    /// most `maxLength`: a single text loses tokens at its end; a pair is cut longest-first. When
    /// `maxLength` is smaller than the number of specials, nothing is truncated (as the reference).
    public func encode(_ text: String, pair: String? = nil, maxLength: Int) -> Encoding {
        var a = pieceIds(text)
        var b = pair.map { pieceIds($0) }
        let budget = maxLength - (b == nil ? 2 : 3)
        if budget >= 0 {
            if var second = b {
                let (na, nb) = Truncation.pairLengths(a.count, second.count, budget: budget)
                a.removeSubrange(na...)
                second.removeSubrange(nb...)
                b = second
            } else if a.count > budget {
                a.removeSubrange(budget...)
            }
        }
        var ids: [Int32] = [clsId]
        ids.reserveCapacity(a.count + (b?.count ?? 0) + 3)
        ids.append(contentsOf: a)
        ids.append(sepId)
        var typeIds = [Int32](repeating: 0, count: ids.count)
        if let second = b {
            ids.append(contentsOf: second)
            ids.append(sepId)
            typeIds.append(contentsOf: [Int32](repeating: 1, count: second.count + 1))
        }
        return Encoding(ids: ids, typeIds: typeIds)
    }
}
