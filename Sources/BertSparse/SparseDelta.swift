/// `SparseDelta`: a tensor stored as the entries where it differs bitwise from its base (compared as
/// UInt32 bit patterns, so -0.0 vs +0.0 and NaN payloads count) plus their new values.
///
/// Serialized: the positions as a `MaskEncoding`, zero padding to a 4-byte offset from the blob start,
/// then the new values as little-endian f32 in position order; the blob ends after the last value.
import BertIR

public struct SparseDelta: Sendable {
    /// The changed entries (n = the tensor's entry count).
    public let positions: Bitmap
    /// The new values, one per set position, in increasing position order.
    public let values: [Float]

    public var count: Int { positions.n }

    public init(positions: Bitmap, values: [Float]) {
        precondition(positions.count == values.count, "SparseDelta: \(values.count) values for \(positions.count) positions")
        self.positions = positions
        self.values = values
    }

    /// The entries of `tensor` whose bits differ from `base` (same length).
    public init(base: UnsafeBufferPointer<Float>, tensor: UnsafeBufferPointer<Float>) {
        precondition(base.count == tensor.count, "SparseDelta: base has \(base.count) entries, tensor \(tensor.count)")
        var mask = Bitmap(n: base.count)
        var values: [Float] = []
        for i in 0..<base.count where base[i].bitPattern != tensor[i].bitPattern {
            mask.set(i)
            values.append(tensor[i])
        }
        self.positions = mask
        self.values = values
    }

    /// The base with the changed entries replaced.
    public func apply(to base: UnsafeBufferPointer<Float>) -> [Float] {
        precondition(base.count == positions.n, "SparseDelta.apply: base has \(base.count) entries, delta \(positions.n)")
        var out = Array(base)
        out.withUnsafeMutableBufferPointer { o in
            values.withUnsafeBufferPointer { v in
                var j = 0
                positions.forEachSet { i in o[i] = v[j]; j += 1 }
            }
        }
        return out
    }

    public func serialized() -> [UInt8] {
        var w = ByteWriter()
        w.bytes = MaskEncoding.encode(positions)
        w.pad(to: 4)
        values.withUnsafeBufferPointer { v in
            w.bytes.reserveCapacity(w.bytes.count + v.count * 4)
            for x in v { w.u32(x.bitPattern) }
        }
        return w.bytes
    }

    /// Checks a blob as `init(bytes:count:file:)` does, in place (memory use does not depend on `n`).
    public static func validate(bytes: UnsafeRawBufferPointer, count n: Int, file: String) throws {
        let (k, used) = try MaskEncoding.validatePrefix(bytes, count: n, file: file)
        var r = ByteReader(bytes, file: file, what: "sparse delta")
        r.offset = used
        try r.skipPadding(to: 4, "values")
        guard r.remaining == k * 4 else {
            throw r.fail("\(k) changed entries need \(k * 4) value bytes but \(r.remaining) remain")
        }
    }

    /// Decodes a blob for a tensor of `n` entries (n from the tensor's shape).
    public init(bytes: UnsafeRawBufferPointer, count n: Int, file: String) throws {
        let (mask, used) = try MaskEncoding.decodePrefix(bytes, count: n, file: file)
        var r = ByteReader(bytes, file: file, what: "sparse delta")
        r.offset = used
        try r.skipPadding(to: 4, "values")
        let k = mask.count
        guard r.remaining == k * 4 else {
            throw r.fail("\(k) changed entries need \(k * 4) value bytes but \(r.remaining) remain")
        }
        var values = [Float](repeating: 0, count: k)
        let start = r.offset
        values.withUnsafeMutableBufferPointer { v in
            for j in 0..<k {
                v[j] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start + 4 * j, as: UInt32.self)))
            }
        }
        self.positions = mask
        self.values = values
    }

    /// Non-nil when `tensor` is `base` with some entries zeroed: every entry equals the base's bitwise
    /// or is +0.0/-0.0. The result holds the zeroed positions where the base is nonzero (entries whose
    /// base value is itself zero are left out).
    public static func isBasePlusZeros(base: UnsafeBufferPointer<Float>, tensor: UnsafeBufferPointer<Float>) -> Bitmap? {
        guard base.count == tensor.count else { return nil }
        var words = [UInt64](repeating: 0, count: Bitmap.wordCount(base.count))
        let ok = words.withUnsafeMutableBufferPointer { w -> Bool in
            for i in 0..<base.count {
                let t = tensor[i].bitPattern, b = base[i].bitPattern
                if t == b { continue }
                guard t & 0x7fff_ffff == 0 else { return false }       // tensor entry is not ±0
                if b & 0x7fff_ffff != 0 { w[i >> 6] |= 1 << UInt64(i & 63) }
            }
            return true
        }
        return ok ? Bitmap(n: base.count, trustedWords: words) : nil
    }
}

extension SparseDelta: Equatable {
    /// Equal when positions match and the values match bit for bit.
    public static func == (a: SparseDelta, b: SparseDelta) -> Bool {
        a.positions == b.positions && a.values.count == b.values.count
            && zip(a.values, b.values).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}
