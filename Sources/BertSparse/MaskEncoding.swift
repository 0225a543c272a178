/// `MaskEncoding`: the stored form of a mask (e.g. the zeroed entries of a tensor), the smallest of
/// a raw bitmap and Golomb-coded gaps of the set positions (or of the clear positions when more than
/// half the entries are set, so the cost is symmetric in p).
///
/// Layout: u8 tag (0 = bitmap, 1 = Golomb positions, 2 = Golomb complement), varint n (entries),
/// varint k (set bits of the mask, whatever the tag), for tags 1 and 2 a varint M, then the payload,
/// bit-packed LSB-first: tag 0 is ceil(n/8) bytes of the bitmap (bit i = bit i % 8 of byte i / 8);
/// tags 1/2 are the Golomb codes (see `GolombCode`) of the k (tag 1) or n - k (tag 2) coded positions.
/// Unused bits of the last byte are zero. Varints are unsigned LEB128 in shortest form.
import BertIR
import Foundation

public enum MaskEncoding {
    public static let tagBitmap: UInt8 = 0
    public static let tagGolomb: UInt8 = 1
    public static let tagGolombComplement: UInt8 = 2

    public static func encode(_ mask: Bitmap) -> [UInt8] {
        let n = mask.n
        let k = mask.count
        let invert = k * 2 > n
        let coded = invert ? n - k : k
        let bitmapBytes = (n + 7) / 8

        // Best Golomb parameter around the analytic optimum, by exact cost.
        let m0 = GolombCode.optimalM(n: n, k: coded)
        var bestM = m0, bestBits = Int.max
        for m in Set([max(1, m0 - 1), m0, min(GolombCode.maxM, m0 + 1)]).sorted() {
            let c = GolombCode.cost(mask, invert: invert, m: m)
            if c < bestBits { bestBits = c; bestM = m }
        }
        let golombBytes = varintSize(bestM) + (bestBits + 7) / 8

        var w = ByteWriter()
        if bitmapBytes <= golombBytes {
            w.bytes.reserveCapacity(21 + bitmapBytes)
            w.u8(tagBitmap); w.varint(n); w.varint(k)
            mask.words.withUnsafeBufferPointer { words in
                // Words are little-endian bit order; emit their bytes in little-endian byte order.
                var left = bitmapBytes
                for x in words where left > 0 {
                    let take = min(8, left)
                    for s in 0..<take { w.bytes.append(UInt8(truncatingIfNeeded: x >> UInt64(8 * s))) }
                    left -= take
                }
            }
        } else {
            w.bytes.reserveCapacity(21 + golombBytes)
            w.u8(invert ? tagGolombComplement : tagGolomb); w.varint(n); w.varint(k); w.varint(bestM)
            w.bytes.append(contentsOf: GolombCode.encode(mask, invert: invert, m: bestM, bits: bestBits))
        }
        return w.bytes
    }

    /// Decodes an encoding that fills `bytes` exactly; `n` (bounded by the caller, e.g. from the
    /// tensor's shape) must equal the stored entry count.
    public static func decode(_ bytes: UnsafeRawBufferPointer, count n: Int, file: String) throws -> Bitmap {
        let (mask, end) = try decodePrefix(bytes, count: n, file: file)
        guard end == bytes.count else {
            throw BertError(file, "mask encoding: \(bytes.count - end) trailing bytes after the mask")
        }
        return mask
    }

    /// The fixed part of an encoding, read and checked against the tensor's entry count `n`.
    struct Header {
        var tag: UInt8
        var set: Int
        /// Golomb parameter (tags 1 and 2).
        var m: Int
        /// Where the payload starts.
        var payload: Int
    }

    static func header(_ r: inout ByteReader, count n: Int) throws -> Header {
        let tag = try r.u8("tag")
        guard tag <= tagGolombComplement else { throw r.fail("unknown tag \(tag)") }
        let storedN = try r.varint("entry count")
        guard storedN == n else { throw r.fail("stores \(storedN) entries but the tensor has \(n)") }
        let k = try r.varint("set count")
        guard k <= n else { throw r.fail("\(k) set entries out of \(n)") }
        if tag == tagBitmap {
            let payload = (n + 7) / 8
            guard r.remaining >= payload else {
                throw r.fail("bitmap needs \(payload) bytes but \(r.remaining) remain")
            }
            return Header(tag: tag, set: k, m: 0, payload: r.offset)
        }
        let m = try r.varint("Golomb parameter")
        guard m >= 1 && m <= GolombCode.maxM else { throw r.fail("Golomb parameter \(m) out of range") }
        return Header(tag: tag, set: k, m: m, payload: r.offset)
    }

    /// Checks an encoding at the start of `bytes` exactly as `decodePrefix` does, in place: memory use
    /// does not depend on the declared entry count, so untrusted files are validated before any
    /// bitmap is allocated. Returns the number of set entries and of bytes used.
    public static func validatePrefix(_ bytes: UnsafeRawBufferPointer, count n: Int,
                                      file: String) throws -> (setCount: Int, byteCount: Int) {
        var r = ByteReader(bytes, file: file, what: "mask encoding")
        let h = try header(&r, count: n)
        if h.tag == tagBitmap {
            let payload = (n + 7) / 8
            var ones = 0
            var i = 0
            while i + 8 <= payload {
                ones += bytes.loadUnaligned(fromByteOffset: h.payload + i, as: UInt64.self).nonzeroBitCount
                i += 8
            }
            while i < payload { ones += bytes[h.payload + i].nonzeroBitCount; i += 1 }
            if n & 7 != 0, bytes[h.payload + payload - 1] >> UInt8(n & 7) != 0 { throw r.fail("bits set past entry \(n)") }
            guard ones == h.set else { throw r.fail("bitmap has \(ones) set bits but declares \(h.set)") }
            return (h.set, h.payload + payload)
        }
        let coded = h.tag == tagGolombComplement ? n - h.set : h.set
        let end = try GolombCode.validate(bytes, start: h.payload, n: n, k: coded, m: h.m, fail: r.fail)
        return (h.set, end)
    }

    /// `validatePrefix` for an encoding that must fill `bytes` exactly.
    public static func validate(_ bytes: UnsafeRawBufferPointer, count n: Int, file: String) throws {
        let (_, end) = try validatePrefix(bytes, count: n, file: file)
        guard end == bytes.count else {
            throw BertError(file, "mask encoding: \(bytes.count - end) trailing bytes after the mask")
        }
    }

    /// Decodes an encoding at the start of `bytes`; returns the mask and the number of bytes it used.
    public static func decodePrefix(_ bytes: UnsafeRawBufferPointer, count n: Int,
                                    file: String) throws -> (mask: Bitmap, byteCount: Int) {
        var r = ByteReader(bytes, file: file, what: "mask encoding")
        let h = try header(&r, count: n)
        let k = h.set
        if h.tag == tagBitmap {
            let payload = (n + 7) / 8
            var words = [UInt64](repeating: 0, count: Bitmap.wordCount(n))
            let start = h.payload
            words.withUnsafeMutableBufferPointer { w in
                for wi in 0..<w.count {
                    let b0 = start + wi * 8
                    let take = min(8, payload - wi * 8)
                    var x: UInt64 = 0
                    if take == 8 {
                        x = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: b0, as: UInt64.self))
                    } else {
                        for s in 0..<take { x |= UInt64(bytes[b0 + s]) << UInt64(8 * s) }
                    }
                    w[wi] = x
                }
            }
            if n & 63 != 0, let last = words.last, last >> UInt64(n & 63) != 0 {
                throw r.fail("bits set past entry \(n)")
            }
            let mask = Bitmap(n: n, trustedWords: words)
            guard mask.count == k else { throw r.fail("bitmap has \(mask.count) set bits but declares \(k)") }
            return (mask, start + payload)
        }

        let invert = h.tag == tagGolombComplement
        let coded = invert ? n - k : k
        let (words, end) = try GolombCode.decode(bytes, start: h.payload, n: n, k: coded, m: h.m, fail: r.fail)
        let decoded = Bitmap(n: n, trustedWords: words)
        return (invert ? decoded.complement : decoded, end)
    }

    /// n * H(k/n) / 8 bytes, H the binary entropy in bits.
    public static func entropyBound(count n: Int, set k: Int) -> Double {
        guard n > 0, k > 0, k < n else { return 0 }
        let p = Double(k) / Double(n)
        let h = -p * log2(p) - (1 - p) * log2(1 - p)
        return Double(n) * h / 8
    }

    static func varintSize(_ v: Int) -> Int {
        var x = UInt64(v), s = 1
        while x >= 0x80 { x >>= 7; s += 1 }
        return s
    }
}
