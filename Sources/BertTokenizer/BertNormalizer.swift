/// The BERT normalizer, in the Hugging Face `tokenizers` order: clean the text, space out CJK
/// ideographs, strip accents (NFD, drop non-spacing marks), lowercase (one character at a time).
/// Text is handled as arrays of Unicode scalar values.
import Foundation

struct BertNormalizer: Sendable {
    let tokenizeChineseChars: Bool
    let stripAccents: Bool
    let lowercase: Bool

    init(options: TokenizerOptions) {
        tokenizeChineseChars = options.tokenizeChineseChars
        stripAccents = options.effectiveStripAccents
        lowercase = options.doLowerCase
    }

    func normalize(_ input: ArraySlice<UInt32>) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(input.count + 8)
        var nonASCII = false
        for v in input {
            if CharacterClasses.isRemovedByCleaning(v) { continue }
            if CharacterClasses.isWhitespace(v) { out.append(0x20); continue }
            if v >= 0x80 {
                nonASCII = true
                if tokenizeChineseChars && CharacterClasses.isChineseChar(v) {
                    out.append(0x20); out.append(v); out.append(0x20)
                    continue
                }
            }
            out.append(v)
        }
        if stripAccents && nonASCII { out = Self.stripAccents(out) }
        if lowercase { out = Self.lowercase(out, nonASCII: nonASCII) }
        return out
    }

    /// Characters the reference's NFD (an older Unicode version) leaves whole although the
    /// toolchain decomposes them: U+11938 DIVES AKURU VOWEL SIGN O (Unicode 13).
    static let keptWhole: Set<UInt32> = [0x11938]

    /// Canonical decomposition followed by removal of non-spacing marks.
    static func stripAccents(_ text: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(text.count)
        var view = String.UnicodeScalarView()
        func flush() {
            if view.isEmpty { return }
            for s in String(view).decomposedStringWithCanonicalMapping.unicodeScalars
            where !CharacterClasses.isNonspacingMark(s.value) {
                out.append(s.value)
            }
            view = String.UnicodeScalarView()
        }
        for v in text {
            if v >= 0x11938 && keptWhole.contains(v) {
                flush()
                out.append(v)
            } else if let s = Unicode.Scalar(v) {
                view.append(s)
            }
        }
        flush()
        return out
    }

    /// Full lowercase mapping per character (no context rules such as final sigma), as Rust's
    /// `char::to_lowercase`; the toolchain's mapping agrees with the reference on every code point.
    static func lowercase(_ text: [UInt32], nonASCII: Bool) -> [UInt32] {
        var out = text
        if !nonASCII {
            for i in out.indices where out[i] >= 0x41 && out[i] <= 0x5A { out[i] += 0x20 }
            return out
        }
        out.removeAll(keepingCapacity: true)
        for v in text {
            if v < 0x80 {
                out.append(v >= 0x41 && v <= 0x5A ? v + 0x20 : v)
            } else if let s = Unicode.Scalar(v) {
                for l in s.properties.lowercaseMapping.unicodeScalars { out.append(l.value) }
            }
        }
        return out
    }
}
