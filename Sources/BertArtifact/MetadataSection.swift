/// The JSON document stored in an artifact's METADATA section.
import Foundation
import BertIR

struct MetadataSection: Codable {
    var format: String
    var producer: String
    var metadata: ModelMetadata
    /// "inline" (VOCAB section present) or "base" (use the base model's vocab).
    var vocab: String
    var base: BaseReference?
    /// Pass counters of the compile (optional; absent in older files).
    var statistics: [CompileStatistic]?

    init(metadata: ModelMetadata, vocabInline: Bool, base: BaseReference?, statistics: [CompileStatistic] = []) {
        format = ArtifactFormat.formatName; producer = ArtifactFormat.producer
        self.metadata = metadata; vocab = vocabInline ? "inline" : "base"; self.base = base
        self.statistics = statistics.isEmpty ? nil : statistics
    }

    enum CodingKeys: String, CodingKey { case format, producer, metadata, vocab, base, statistics }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        producer = try c.decodeIfPresent(String.self, forKey: .producer) ?? ""
        metadata = try c.decode(ModelMetadata.self, forKey: .metadata)
        vocab = try c.decode(String.self, forKey: .vocab)
        base = try c.decodeIfPresent(BaseReference.self, forKey: .base)
        statistics = try c.decodeIfPresent([CompileStatistic].self, forKey: .statistics)
    }

    /// Writes `"base": null` explicitly rather than leaving the key out.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(producer, forKey: .producer)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(vocab, forKey: .vocab)
        if let base { try c.encode(base, forKey: .base) } else { try c.encodeNil(forKey: .base) }
        try c.encodeIfPresent(statistics, forKey: .statistics)
    }

    func encoded() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try enc.encode(self))
    }

    /// Decodes the section; every fault is one line naming `path`.
    static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> MetadataSection {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw BertError(path, "METADATA section is not valid UTF-8")
        }
        let m: MetadataSection
        do {
            m = try JSONDecoder().decode(MetadataSection.self, from: Data(bytes))
        } catch let e as DecodingError {
            throw BertError(path, "METADATA section: \(describe(e))")
        } catch {
            throw BertError(path, "METADATA section: invalid JSON")
        }
        guard m.format == ArtifactFormat.formatName else {
            throw BertError(path, "METADATA section: format is \"\(oneLine(m.format))\", expected \"\(ArtifactFormat.formatName)\"")
        }
        guard m.vocab == "inline" || m.vocab == "base" else {
            throw BertError(path, "METADATA section: vocab must be \"inline\" or \"base\", got \"\(oneLine(m.vocab))\"")
        }
        if let b = m.base, !b.hasValidFingerprint {
            throw BertError(path, "METADATA section: base fingerprint \"\(oneLine(b.fingerprint))\" is not 16 hex digits")
        }
        if m.vocab == "base" && m.base == nil {
            throw BertError(path, "METADATA section: vocab is \"base\" but no base model is referenced")
        }
        return m
    }

    private static func describe(_ e: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, let ctx): return "missing key \"\(path(ctx.codingPath + [k]))\""
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return "wrong type at \"\(path(ctx.codingPath))\""
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "invalid JSON" : "bad value at \"\(path(ctx.codingPath))\""
        @unknown default: return "invalid JSON"
        }
    }
}

/// `s` cut to 80 characters with control characters replaced, for error messages.
func oneLine(_ s: String) -> String {
    let cleaned = String(s.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? "?" : Character($0) })
    return cleaned.count > 80 ? String(cleaned.prefix(80)) + "..." : cleaned
}
