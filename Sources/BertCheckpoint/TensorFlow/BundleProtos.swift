/// The messages a TensorFlow tensor bundle index holds (tensorflow/core/protobuf/tensor_bundle.proto):
/// under the empty key a BundleHeaderProto {num_shards = 1, endianness = 2, version = 3}; under each
/// tensor name a BundleEntryProto {dtype = 1, shape = 2 (TensorShapeProto {dim = 2 {size = 1}}),
/// shard_id = 3, offset = 4, size = 5, crc32c = 6 (fixed32), slices = 7}. Decoded by hand with
/// `ProtoReader`; unknown fields are skipped, fields of the wrong wire type are malformed.
import BertIR

/// TensorFlow's DataType enum values bertc knows.
struct TFDType: Hashable, CustomStringConvertible {
    var raw: Int

    static let float = TFDType(raw: 1), double = TFDType(raw: 2), int32 = TFDType(raw: 3)
    static let string = TFDType(raw: 7), int64 = TFDType(raw: 9), bfloat16 = TFDType(raw: 14)
    static let half = TFDType(raw: 19)

    static let names: [Int: String] = [
        1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16", 6: "DT_INT8",
        7: "DT_STRING", 8: "DT_COMPLEX64", 9: "DT_INT64", 10: "DT_BOOL", 14: "DT_BFLOAT16",
        17: "DT_UINT16", 18: "DT_COMPLEX128", 19: "DT_HALF", 22: "DT_UINT32", 23: "DT_UINT64",
    ]
    static let sizes: [Int: Int] = [1: 4, 2: 8, 3: 4, 4: 1, 5: 2, 6: 1, 8: 8, 9: 8, 10: 1, 14: 2, 17: 2,
                                    18: 16, 19: 2, 22: 4, 23: 8]

    var description: String { Self.names[raw] ?? "DT_\(raw)" }
    /// Bytes per element; nil for strings and unknown types.
    var size: Int? { Self.sizes[raw] }
    /// float32, float16 and bfloat16 are imported (widened to float32); others are skipped.
    var isImportedFloat: Bool { self == .float || self == .half || self == .bfloat16 }
}

/// BundleHeaderProto.
struct BundleHeader {
    var numShards = 1
    /// 0 little-endian, 1 big-endian.
    var endianness = 0
    var producer = 0

    static func decode(_ bytes: ArraySlice<UInt8>) throws -> BundleHeader {
        var h = BundleHeader()
        var r = ProtoReader(bytes, what: "BundleHeaderProto")
        while let f = try r.next() {
            switch f.number {
            case 1:
                guard let n = f.nonNegativeInt, n >= 1, n <= 1 << 20 else {
                    throw MalformedProto("BundleHeaderProto: invalid num_shards")
                }
                h.numShards = n
            case 2:
                guard let e = f.nonNegativeInt else { throw MalformedProto("BundleHeaderProto: invalid endianness") }
                h.endianness = e
            case 3:
                guard let b = f.bytes else { throw MalformedProto("BundleHeaderProto: version is not a message") }
                var v = ProtoReader(b, what: "VersionDef")
                while let vf = try v.next() {
                    if vf.number == 1 { h.producer = Int(truncatingIfNeeded: vf.int64 ?? 0) }
                }
            default: break
            }
        }
        return h
    }
}

/// BundleEntryProto: where one tensor's bytes are and what they hold.
struct BundleEntry {
    var name: String
    var dtype = TFDType(raw: 0)
    var shape: [Int] = []
    var shardID = 0
    var offset = 0
    var size = 0
    var crc32c: UInt32? = nil
    /// Partitioned variables store slices; bertc does not assemble them.
    var hasSlices = false

    /// Elements in `shape` (checked against overflow when decoded).
    var elementCount: Int { shape.reduce(1, *) }

    static func decode(_ bytes: ArraySlice<UInt8>, name: String) throws -> BundleEntry {
        var e = BundleEntry(name: name)
        let what = "BundleEntryProto of '\(name)'"
        var r = ProtoReader(bytes, what: what)
        func int(_ f: ProtoField, _ field: String, max: Int = Int.max) throws -> Int {
            guard let v = f.nonNegativeInt, v <= max else { throw MalformedProto("\(what): invalid \(field)") }
            return v
        }
        while let f = try r.next() {
            switch f.number {
            case 1: e.dtype = TFDType(raw: try int(f, "dtype", max: 1 << 16))
            case 2:
                guard let b = f.bytes else { throw MalformedProto("\(what): shape is not a message") }
                e.shape = try decodeShape(b, what: what)
            case 3: e.shardID = try int(f, "shard_id", max: 1 << 20)
            case 4: e.offset = try int(f, "offset")
            case 5: e.size = try int(f, "size")
            case 6:
                guard let c = f.fixed32 else { throw MalformedProto("\(what): crc32c is not a fixed32") }
                e.crc32c = c
            case 7: e.hasSlices = true
            default: break
            }
        }
        return e
    }

    /// TensorShapeProto {dim = 2 {size = 1, name = 2}, unknown_rank = 3}.
    static func decodeShape(_ bytes: ArraySlice<UInt8>, what: String) throws -> [Int] {
        var dims: [Int] = []
        var count = 1
        var r = ProtoReader(bytes, what: what + " shape")
        while let f = try r.next() {
            switch f.number {
            case 2:
                guard let b = f.bytes else { throw MalformedProto("\(what): shape dim is not a message") }
                guard dims.count < 32 else { throw MalformedProto("\(what): shape has more than 32 dimensions") }
                var size = 0
                var d = ProtoReader(b, what: what + " shape dim")
                while let df = try d.next() {
                    guard df.number == 1 else { continue }
                    guard let v = df.int64, v >= 0 else { throw MalformedProto("\(what): negative or invalid dimension size") }
                    guard v <= Int64(Int32.max) * 64 else { throw MalformedProto("\(what): dimension size \(v) is too large") }
                    size = Int(v)
                }
                let (p, o) = count.multipliedReportingOverflow(by: size)
                guard !o, p <= Int(Int32.max) * 64 else { throw MalformedProto("\(what): shape is too large") }
                count = p
                dims.append(size)
            case 3:
                if f.nonNegativeInt ?? 0 != 0 { throw MalformedProto("\(what): shape has unknown rank") }
            default: break
            }
        }
        return dims
    }
}
