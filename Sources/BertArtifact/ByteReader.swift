/// `ByteReader`: bounds-checked little-endian reads from a byte range of a mapped file.
import BertIR

struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    /// Names the region in error messages ("TENSOR_TABLE section").
    let region: String
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer, path: String, region: String) {
        self.bytes = bytes; self.path = path; self.region = region
    }

    var remaining: Int { bytes.count - position }

    func fault(_ msg: String) -> BertError { BertError(path, "\(region): \(msg)") }

    mutating func take(_ n: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else {
            throw fault("truncated reading \(what) at byte \(position) (needs \(n), \(remaining) left)")
        }
        let r = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
        position += n
        return r
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        let b = try take(MemoryLayout<T>.size, what)
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: b) }
        return T(littleEndian: v)
    }

    /// A u64 that must fit in a non-negative Int.
    mutating func readCount(_ what: String) throws -> Int {
        let v = try read(UInt64.self, what)
        guard v <= UInt64(Int.max) else { throw fault("\(what) \(v) is out of range") }
        return Int(v)
    }
}

/// Little-endian integer at `offset` of a buffer the caller has bounds-checked.
func loadLE<T: FixedWidthInteger>(_ b: UnsafeRawBufferPointer, _ offset: Int, as: T.Type) -> T {
    var v: T = 0
    withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[offset..<(offset + MemoryLayout<T>.size)])) }
    return T(littleEndian: v)
}
