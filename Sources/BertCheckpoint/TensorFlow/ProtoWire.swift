/// A hand-written decoder of the protobuf wire format, enough for TensorFlow's bundle messages:
/// varints (wire type 0), fixed64 (1), length-delimited (2) and fixed32 (5); groups (3, 4), field
/// number 0, over-long varints and lengths past the end are refused as malformed. Unknown fields are
/// skipped by the callers. Every read is bounds-checked; nothing is allocated from a length field.
import BertIR

/// One field of a message: its number and value.
struct ProtoField {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }
    var number: Int
    var value: Value

    /// The value as a non-negative Int (varint fields), or nil.
    var nonNegativeInt: Int? {
        if case .varint(let v) = value, v <= UInt64(Int.max) { return Int(v) }
        return nil
    }
    /// The value as an int64 (varint fields, two's complement), or nil.
    var int64: Int64? {
        if case .varint(let v) = value { return Int64(bitPattern: v) }
        return nil
    }
    var bytes: ArraySlice<UInt8>? {
        if case .bytes(let b) = value { return b }
        return nil
    }
    var fixed32: UInt32? {
        if case .fixed32(let v) = value { return v }
        return nil
    }
}

/// Iterates the fields of one serialized message. `what` names the message in errors.
struct ProtoReader {
    private let bytes: ArraySlice<UInt8>
    private var pos: Int
    let what: String

    init(_ bytes: ArraySlice<UInt8>, what: String) {
        self.bytes = bytes; self.pos = bytes.startIndex; self.what = what
    }

    var atEnd: Bool { pos >= bytes.endIndex }

    /// A base-128 varint starting at `pos` in `b`: (value, next position), or nil when malformed.
    static func varint(_ b: ArraySlice<UInt8>, at start: Int) -> (UInt64, Int)? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var p = start
        while p < b.endIndex {
            let byte = b[p]
            p += 1
            if shift == 63 && byte > 1 { return nil }  // more than 64 bits
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return (result, p) }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    /// The next field, nil at the end; throws `MalformedProto` on bad wire data.
    mutating func next() throws -> ProtoField? {
        if atEnd { return nil }
        guard let (key, p1) = Self.varint(bytes, at: pos) else { throw MalformedProto("\(what): truncated or over-long field key") }
        guard key >> 3 >= 1, key >> 3 <= UInt64(Int32.max) else { throw MalformedProto("\(what): invalid field number \(key >> 3)") }
        let number = Int(key >> 3)
        pos = p1
        switch key & 7 {
        case 0:
            guard let (v, p) = Self.varint(bytes, at: pos) else { throw MalformedProto("\(what): field \(number): malformed varint") }
            pos = p
            return ProtoField(number: number, value: .varint(v))
        case 1:
            guard bytes.endIndex - pos >= 8 else { throw MalformedProto("\(what): field \(number): truncated fixed64") }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
            pos += 8
            return ProtoField(number: number, value: .fixed64(v))
        case 2:
            guard let (n, p) = Self.varint(bytes, at: pos) else { throw MalformedProto("\(what): field \(number): malformed length") }
            guard n <= UInt64(bytes.endIndex - p) else {
                throw MalformedProto("\(what): field \(number): length \(n) runs past the end of the message")
            }
            pos = p + Int(n)
            return ProtoField(number: number, value: .bytes(bytes[p..<pos]))
        case 5:
            guard bytes.endIndex - pos >= 4 else { throw MalformedProto("\(what): field \(number): truncated fixed32") }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[pos + i]) << (8 * UInt32(i)) }
            pos += 4
            return ProtoField(number: number, value: .fixed32(v))
        default:
            throw MalformedProto("\(what): field \(number) has unsupported wire type \(key & 7)")
        }
    }
}

/// A wire-format fault; the caller turns it into a BertError naming the file.
struct MalformedProto: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
