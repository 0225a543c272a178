/// LSB-first bit packing: the first bit written is bit 0 of byte 0. `BitWriter` appends through a
/// 64-bit accumulator; `BitReader` reads an untrusted buffer, where bits past the end read as zero and
/// the caller checks `overran` (so a truncated stream is reported, never read out of bounds).

struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var acc: UInt64 = 0
    private var used: Int = 0   // bits held in acc (< 64 between calls)

    init(reservingBits bits: Int = 0) { bytes.reserveCapacity((bits + 7) / 8) }

    /// Writes the low `width` bits of `value` (width <= 32).
    @inline(__always) mutating func write(_ value: UInt64, width: Int) {
        guard width > 0 else { return }
        acc |= (value & ((1 << UInt64(width)) &- 1)) << UInt64(used)
        used += width
        if used >= 32 { flush32() }
    }

    @inline(__always) private mutating func flush32() {
        while used >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: acc))
            acc >>= 8
            used -= 8
        }
    }

    /// Writes `q` one bits followed by a zero bit.
    mutating func unary(_ q: Int) {
        var q = q
        while q >= 32 { write(0xffff_ffff, width: 32); q -= 32 }
        write((1 << UInt64(q)) &- 1, width: q + 1)
    }

    /// Flushes the partial last byte (zero-padded) and returns all bytes.
    mutating func finish() -> [UInt8] {
        flush32()
        if used > 0 { bytes.append(UInt8(truncatingIfNeeded: acc)); acc = 0; used = 0 }
        return bytes
    }
}

struct BitReader {
    let base: UnsafeRawBufferPointer
    /// Bit position from the start of `base`.
    var bit: Int
    let endBit: Int

    init(_ base: UnsafeRawBufferPointer, startByte: Int) {
        self.base = base
        self.bit = startByte * 8
        self.endBit = base.count * 8
    }

    /// True once more bits were consumed than the buffer holds.
    var overran: Bool { bit > endBit }

    /// At least 56 upcoming bits (bits past the end of the buffer read as zero).
    @inline(__always) func peek() -> UInt64 {
        let byte = bit >> 3
        var w: UInt64 = 0
        if byte + 8 <= base.count {
            w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
        } else if byte < base.count {
            for i in 0..<(base.count - byte) { w |= UInt64(base[byte + i]) << UInt64(8 * i) }
        }
        return w >> UInt64(bit & 7)
    }

    /// Reads `width` bits (width <= 32).
    @inline(__always) mutating func read(_ width: Int) -> UInt64 {
        guard width > 0 else { return 0 }
        let v = peek() & ((1 << UInt64(width)) &- 1)
        bit += width
        return v
    }

    /// Reads a unary count of one bits ended by a zero bit; nil once the count exceeds `limit`
    /// or the stream runs past its end.
    mutating func unary(limit: Int) -> Int? {
        var q = 0
        while true {
            if bit >= endBit { return nil }
            let w = peek()
            let ones = (~w).trailingZeroBitCount
            if ones < 56 {
                q += ones
                bit += ones + 1
                return q <= limit ? q : nil
            }
            q += 56
            bit += 56
            if q > limit { return nil }
        }
    }
}
