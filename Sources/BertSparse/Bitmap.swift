/// `Bitmap`: a fixed-size set of bit positions stored as little-endian 64-bit words
/// (bit i of the tensor is bit i % 64 of word i / 64). Bits past `n` in the last word are always 0.
import BertIR

public struct Bitmap: Equatable, Hashable, Sendable {
    /// Number of bits (entries of the tensor the mask covers).
    public let n: Int
    /// The bits, `(n + 63) / 64` words; unused high bits of the last word are zero.
    public private(set) var words: [UInt64]

    /// Words needed for `n` bits.
    @inlinable public static func wordCount(_ n: Int) -> Int { (n + 63) >> 6 }

    /// An empty bitmap of `n` bits.
    public init(n: Int) {
        precondition(n >= 0, "Bitmap: negative size")
        self.n = n
        self.words = [UInt64](repeating: 0, count: Bitmap.wordCount(n))
    }

    /// A bitmap of `n` bits with the given positions set (each must lie in 0..<n; duplicates are fine).
    public init<S: Sequence>(n: Int, positions: S) where S.Element == Int {
        self.init(n: n)
        words.withUnsafeMutableBufferPointer { w in
            for p in positions {
                precondition(p >= 0 && p < n, "Bitmap: position \(p) out of range 0..<\(n)")
                w[p >> 6] |= 1 << UInt64(p & 63)
            }
        }
    }

    /// A bitmap over untrusted words: the word count must match `n` and bits past `n` must be zero.
    public init(n: Int, words: [UInt64], file: String) throws {
        guard n >= 0 else { throw BertError(file, "bitmap: negative size \(n)") }
        guard words.count == Bitmap.wordCount(n) else {
            throw BertError(file, "bitmap: \(words.count) words for \(n) bits (expected \(Bitmap.wordCount(n)))")
        }
        if n & 63 != 0, let last = words.last, last >> UInt64(n & 63) != 0 {
            throw BertError(file, "bitmap: bits set past the end (\(n) bits)")
        }
        self.n = n
        self.words = words
    }

    /// Internal: adopt words already known to be well formed.
    init(n: Int, trustedWords: [UInt64]) {
        self.n = n
        self.words = trustedWords
    }

    public mutating func set(_ i: Int) {
        precondition(i >= 0 && i < n, "Bitmap.set: \(i) out of range 0..<\(n)")
        words[i >> 6] |= 1 << UInt64(i & 63)
    }

    public mutating func clear(_ i: Int) {
        precondition(i >= 0 && i < n, "Bitmap.clear: \(i) out of range 0..<\(n)")
        words[i >> 6] &= ~(1 << UInt64(i & 63))
    }

    public func test(_ i: Int) -> Bool {
        precondition(i >= 0 && i < n, "Bitmap.test: \(i) out of range 0..<\(n)")
        return words[i >> 6] >> UInt64(i & 63) & 1 != 0
    }

    /// Number of set bits.
    public var count: Int {
        words.withUnsafeBufferPointer { w in
            var c = 0
            for x in w { c &+= x.nonzeroBitCount }
            return c
        }
    }

    /// Fraction of bits set (0 for an empty bitmap).
    public var density: Double { n == 0 ? 0 : Double(count) / Double(n) }

    /// The set positions in increasing order.
    public var positions: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        forEachSet { out.append($0) }
        return out
    }

    /// Calls `body` with every set position in increasing order.
    @inlinable public func forEachSet(_ body: (Int) throws -> Void) rethrows {
        try words.withUnsafeBufferPointer { w in
            for wi in 0..<w.count {
                var x = w[wi]
                while x != 0 {
                    let b = x.trailingZeroBitCount
                    try body(wi << 6 | b)
                    x &= x &- 1
                }
            }
        }
    }

    /// The bitmap with every bit of 0..<n flipped.
    public var complement: Bitmap {
        var w = words
        w.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = ~p[i] }
            if n & 63 != 0, p.count > 0 { p[p.count - 1] &= (1 << UInt64(n & 63)) &- 1 }
        }
        return Bitmap(n: n, trustedWords: w)
    }
}
