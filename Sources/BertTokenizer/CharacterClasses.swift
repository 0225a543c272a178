/// The character predicates of the BERT normalizer and pre-tokenizer (whitespace, control,
/// punctuation, non-spacing mark, CJK ideograph), matching the Hugging Face `tokenizers` rules.

enum CharacterClasses {
    /// Binary search of a sorted, disjoint range table.
    @inline(__always)
    static func contains(_ table: [ClosedRange<UInt32>], _ v: UInt32) -> Bool {
        var lo = 0, hi = table.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let r = table[mid]
            if v < r.lowerBound { hi = mid } else if v > r.upperBound { lo = mid + 1 } else { return true }
        }
        return false
    }

    /// The White_Space property (Rust `char::is_whitespace`), which also covers tab, LF and CR.
    static func isWhitespace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Deleted by cleaning: NUL, U+FFFD and the reference's control/format/private-use characters
    /// (tab, LF and CR are whitespace instead).
    static func isRemovedByCleaning(_ v: UInt32) -> Bool {
        if v < 0x80 { return v < 0x09 || v == 0x0B || v == 0x0C || (v >= 0x0E && v < 0x20) || v == 0x7F }
        return contains(BertUnicodeTables.control, v)
    }

    /// Split off as its own word by the pre-tokenizer.
    static func isPunctuation(_ v: UInt32) -> Bool {
        if v < 0x80 {
            return (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
        }
        return contains(BertUnicodeTables.punctuation, v)
    }

    /// Dropped by accent stripping (after NFD).
    static func isNonspacingMark(_ v: UInt32) -> Bool {
        v >= 0x300 && contains(BertUnicodeTables.nonspacingMark, v)
    }

    /// The reference's CJK ideograph ranges (each gets spaces around it).
    static func isChineseChar(_ v: UInt32) -> Bool {
        switch v {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
