/// Little-endian byte writing and bounds-checked reading shared by the encodings:
/// LEB128 varints, fixed-width integers, alignment padding.
import BertIR

/// Appends little-endian values to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: Int) {
        precondition(v >= 0)
        var x = UInt64(v)
        while x >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        bytes.append(UInt8(x))
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }

    /// Zero bytes up to the next multiple of `alignment` from the start of the blob.
    mutating func pad(to alignment: Int) {
        let r = bytes.count % alignment
        if r != 0 { bytes.append(contentsOf: repeatElement(0, count: alignment - r)) }
    }

    /// Appends the raw bytes of a buffer of trivial values.
    mutating func raw<T>(_ values: UnsafeBufferPointer<T>) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(values))
    }
}

/// Reads from an untrusted byte buffer; every read is bounds-checked and throws `BertError`.
struct ByteReader {
    let buf: UnsafeRawBufferPointer
    var offset: Int = 0
    let file: String
    let what: String

    init(_ buf: UnsafeRawBufferPointer, file: String, what: String) {
        self.buf = buf; self.file = file; self.what = what
    }

    var remaining: Int { buf.count - offset }

    func fail(_ message: String) -> BertError { BertError(file, "\(what): \(message)") }

    /// A canonical (shortest-form) unsigned LEB128 varint that fits in a non-negative Int.
    mutating func varint(_ name: String) throws -> Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < buf.count else { throw fail("truncated \(name) varint at byte \(offset)") }
            let b = buf[offset]
            offset += 1
            let payload = UInt64(b & 0x7f)
            if shift == 63 && payload > 0 { throw fail("\(name) varint overflows") }
            result |= payload << shift
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 { throw fail("\(name) varint is not in shortest form") }
                break
            }
            shift += 7
            if shift > 63 { throw fail("\(name) varint is longer than 10 bytes") }
        }
        guard result <= UInt64(Int.max) else { throw fail("\(name) varint overflows") }
        return Int(result)
    }

    mutating func u8(_ name: String) throws -> UInt8 {
        guard remaining >= 1 else { throw fail("truncated \(name) at byte \(offset)") }
        defer { offset += 1 }
        return buf[offset]
    }

    mutating func u32(_ name: String) throws -> UInt32 {
        guard remaining >= 4 else { throw fail("truncated \(name) at byte \(offset)") }
        defer { offset += 4 }
        return UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func u64(_ name: String) throws -> UInt64 {
        guard remaining >= 8 else { throw fail("truncated \(name) at byte \(offset)") }
        defer { offset += 8 }
        return UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Skips zero padding up to the next multiple of `alignment` (the padding bytes must be zero).
    mutating func skipPadding(to alignment: Int, _ name: String) throws {
        let r = offset % alignment
        guard r != 0 else { return }
        let n = alignment - r
        guard remaining >= n else { throw fail("truncated padding before \(name)") }
        for i in offset..<(offset + n) where buf[i] != 0 { throw fail("nonzero padding byte before \(name)") }
        offset += n
    }
}

/// Rounds `x` up to a multiple of `a` (a power of two).
@inline(__always) func alignUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) & ~(a - 1) }
