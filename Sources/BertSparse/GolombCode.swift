/// Golomb coding of the gaps between successive set positions of a mask: gap g = position - previous - 1
/// (previous = -1 before the first) is written as q = g / M in unary (q ones, a zero) and r = g % M in
/// truncated binary: with b = ceil(log2 M) and u = 2^b - M, r < u takes b-1 bits; otherwise v = r + u is
/// written as v >> 1 in b-1 bits then v & 1 (so a reader that sees a (b-1)-bit value >= u reads one more).
/// For geometric gaps the optimal M is ceil(log(2 - p) / -log(1 - p)), p the density.
import BertIR
import Foundation

enum GolombCode {
    /// Largest parameter used or accepted (keeps remainders within 32 bits).
    static let maxM = 1 << 31

    /// The optimal M for `k` set positions out of `n` (k <= n / 2 in practice).
    static func optimalM(n: Int, k: Int) -> Int {
        guard k > 0, n > 0 else { return 1 }
        let p = Double(k) / Double(n)
        if p >= 0.5 { return 1 }
        let m = (log(2 - p) / -log1p(-p)).rounded(.up)
        guard m.isFinite else { return maxM }
        return max(1, min(maxM, Int(m)))
    }

    struct Params {
        let m: Int
        let b: Int      // ceil(log2 m)
        let u: Int      // 2^b - m
        init(_ m: Int) {
            self.m = m
            var b = 0
            while (1 << b) < m { b += 1 }
            self.b = b
            self.u = (1 << b) - m
        }
    }

    /// Exact number of payload bits for the set positions of `mask` (or its clear positions when `invert`).
    static func cost(_ mask: Bitmap, invert: Bool, m: Int) -> Int {
        let pr = Params(m)
        var bits = 0
        var prev = -1
        forEachPosition(mask, invert: invert) { p in
            let g = p - prev - 1
            prev = p
            let q = g / pr.m, r = g - q * pr.m
            bits += q + 1 + (pr.b == 0 ? 0 : (r < pr.u ? pr.b - 1 : pr.b))
        }
        return bits
    }

    /// Golomb payload for the set (or clear, when `invert`) positions of `mask`.
    static func encode(_ mask: Bitmap, invert: Bool, m: Int, bits: Int) -> [UInt8] {
        let pr = Params(m)
        var w = BitWriter(reservingBits: bits)
        var prev = -1
        forEachPosition(mask, invert: invert) { p in
            let g = p - prev - 1
            prev = p
            let q = g / pr.m, r = g - q * pr.m
            w.unary(q)
            if pr.b > 0 {
                if r < pr.u {
                    w.write(UInt64(r), width: pr.b - 1)
                } else {
                    let v = UInt64(r + pr.u)
                    w.write(v >> 1, width: pr.b - 1)
                    w.write(v & 1, width: 1)
                }
            }
        }
        return w.finish()
    }

    /// Decodes `k` positions out of `n` starting at byte `start` of `buf` into the words of a bitmap
    /// (set bits = decoded positions). Returns the words and the byte offset just past the payload.
    static func decode(_ buf: UnsafeRawBufferPointer, start: Int, n: Int, k: Int, m: Int,
                       fail: (String) -> BertError) throws -> (words: [UInt64], end: Int) {
        var words = [UInt64](repeating: 0, count: Bitmap.wordCount(n))
        let end = try words.withUnsafeMutableBufferPointer { w in
            try walk(buf, start: start, n: n, k: k, m: m, fail: fail, into: w)
        }
        return (words, end)
    }

    /// Checks a payload as `decode` does without allocating (memory does not depend on `n`);
    /// returns the byte offset just past the payload.
    static func validate(_ buf: UnsafeRawBufferPointer, start: Int, n: Int, k: Int, m: Int,
                         fail: (String) -> BertError) throws -> Int {
        try walk(buf, start: start, n: n, k: k, m: m, fail: fail, into: nil)
    }

    /// Reads the `k` codes, checking every position against `n`; sets the bits in `w` when given.
    private static func walk(_ buf: UnsafeRawBufferPointer, start: Int, n: Int, k: Int, m: Int,
                             fail: (String) -> BertError, into w: UnsafeMutableBufferPointer<UInt64>?) throws -> Int {
        let pr = Params(m)
        var r = BitReader(buf, startByte: start)
        var prev = -1
        for i in 0..<k {
            // Positions left for this and later entries bound the quotient.
            let room = n - 1 - prev - (k - 1 - i)   // the largest gap still possible + 1
            guard room > 0, let q = r.unary(limit: (room - 1) / pr.m) else {
                throw fail("Golomb payload for position \(i) of \(k) is truncated or runs past \(n) entries")
            }
            var rem = 0
            if pr.b > 0 {
                let v = Int(r.read(pr.b - 1))
                if v < pr.u { rem = v } else { rem = (v << 1 | Int(r.read(1))) - pr.u }
            }
            guard !r.overran else { throw fail("Golomb payload truncated at position \(i) of \(k)") }
            let g = q * pr.m + rem
            guard g < room else { throw fail("position \(i) of \(k) lies past \(n) entries") }
            let p = prev + 1 + g
            if let w { w[p >> 6] |= 1 << UInt64(p & 63) }
            prev = p
        }
        // Padding bits of the last byte must be zero.
        let endByte = (r.bit + 7) >> 3
        if r.bit & 7 != 0 {
            let last = buf[endByte - 1]
            if last >> UInt8(r.bit & 7) != 0 { throw fail("nonzero padding bits after the Golomb payload") }
        }
        return endByte
    }

    @inline(__always)
    static func forEachPosition(_ mask: Bitmap, invert: Bool, _ body: (Int) -> Void) {
        let n = mask.n
        mask.words.withUnsafeBufferPointer { w in
            for wi in 0..<w.count {
                var x = invert ? ~w[wi] : w[wi]
                if invert && wi == w.count - 1 && n & 63 != 0 { x &= (1 << UInt64(n & 63)) &- 1 }
                while x != 0 {
                    body(wi << 6 | x.trailingZeroBitCount)
                    x &= x &- 1
                }
            }
        }
    }
}
