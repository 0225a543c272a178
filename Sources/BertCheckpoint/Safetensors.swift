/// The .safetensors reader: an 8-byte little-endian header length N, N bytes of JSON header
/// (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`), then the data.
/// Every length, offset and shape is checked against the file size before use. F32 tensors point
/// into the memory map when 4-byte aligned; F16/BF16 are widened to float32; other types are skipped.
import BertIR
import CBertKernels
import Foundation

/// One tensor entry of a safetensors header. `begin`/`end` are relative to the data section.
public struct SafetensorsEntry: Hashable, Sendable {
    public var name: String
    public var dtype: SafetensorsDType
    public var shape: [Int]
    public var begin: Int
    public var end: Int
    public var elementCount: Int
}

/// A parsed, validated safetensors file (the header; the data stays in the map).
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let map: MappedFile
    /// File offset of the data section (8 + header length).
    public let dataStart: Int
    /// Entries in header order of their data offsets.
    public let entries: [SafetensorsEntry]
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]

    public init(path: String) throws {
        let map = try MappedFile(path: path)
        self.path = path
        self.map = map
        let size = map.size
        guard size >= 8 else {
            throw BertError(path, "file size \(size) is smaller than the 8-byte header length")
        }
        let n64 = map.bytes(0..<8).loadUnaligned(as: UInt64.self).littleEndian
        guard n64 <= UInt64(size - 8) else {
            throw BertError(path, "header length \(n64) exceeds file size \(size)")
        }
        let n = Int(n64)
        guard n >= 2 else { throw BertError(path, "header length \(n) is too small for a JSON object") }
        dataStart = 8 + n
        let dataSize = size - dataStart
        let headerBytes = map.bytes(8..<dataStart)
        // The header may be padded with trailing spaces; it must be valid UTF-8.
        guard let text = String(bytes: headerBytes, encoding: .utf8) else {
            throw BertError(path, "header is not valid UTF-8")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
        } catch {
            throw BertError(path, "header is not valid JSON")
        }
        guard let dict = json as? [String: Any] else {
            throw BertError(path, "header is not a JSON object")
        }
        var meta: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        entries.reserveCapacity(dict.count)
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw BertError(path, "__metadata__ is not a JSON object")
                }
                for (k, v) in m { meta[k] = (v as? String) ?? "\(v)" }
                continue
            }
            entries.append(try Self.parseEntry(name: name, value: value, dataSize: dataSize, path: path))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        // Tensors must not overlap (zero-length tensors never do).
        var lastEnd = 0
        var lastName = ""
        for e in entries where e.end > e.begin {
            if e.begin < lastEnd {
                throw BertError(path, "tensor '\(e.name)' overlaps tensor '\(lastName)'")
            }
            lastEnd = e.end
            lastName = e.name
        }
        self.entries = entries
        self.metadata = meta
    }

    /// A non-negative integer from a JSON number, or nil (fractions, negatives, huge values).
    static func jsonInt(_ v: Any) -> Int? {
        guard let num = v as? NSNumber else { return nil }
        let d = num.doubleValue
        guard d.isFinite, d >= 0, d <= 9.0e15, d == d.rounded() else { return nil }
        return Int(exactly: d)
    }

    static func parseEntry(name: String, value: Any, dataSize: Int, path: String) throws -> SafetensorsEntry {
        guard let obj = value as? [String: Any] else {
            throw BertError(path, "tensor '\(name)': header entry is not a JSON object")
        }
        guard let dtypeName = obj["dtype"] as? String else {
            throw BertError(path, "tensor '\(name)': missing dtype")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw BertError(path, "tensor '\(name)': unknown dtype '\(dtypeName)'")
        }
        guard let shapeAny = obj["shape"] as? [Any] else {
            throw BertError(path, "tensor '\(name)': missing or invalid shape")
        }
        guard shapeAny.count <= 16 else {
            throw BertError(path, "tensor '\(name)': shape has \(shapeAny.count) dimensions")
        }
        var shape: [Int] = []
        var count = 1
        for d in shapeAny {
            guard let v = jsonInt(d) else {
                throw BertError(path, "tensor '\(name)': shape entry \(d) is not a non-negative integer")
            }
            shape.append(v)
            let (p, o) = count.multipliedReportingOverflow(by: v)
            guard !o, p <= Int(Int32.max) * 64 else {
                throw BertError(path, "tensor '\(name)': shape \(shapeAny) is too large")
            }
            count = p
        }
        guard let offs = obj["data_offsets"] as? [Any], offs.count == 2,
              let begin = jsonInt(offs[0]), let end = jsonInt(offs[1]) else {
            throw BertError(path, "tensor '\(name)': missing or invalid data_offsets")
        }
        guard begin <= end else {
            throw BertError(path, "tensor '\(name)': data_offsets [\(begin), \(end)] are reversed")
        }
        guard end <= dataSize else {
            throw BertError(path, "tensor '\(name)': data_offsets [\(begin), \(end)] exceed data size \(dataSize)")
        }
        let (bytes, o) = count.multipliedReportingOverflow(by: dtype.size)
        guard !o, bytes == end - begin else {
            throw BertError(path, "tensor '\(name)': shape \(shape) of \(dtypeName) needs \(o ? "too many" : String(bytes)) bytes but data_offsets span \(end - begin)")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end, elementCount: count)
    }

    /// The float32 data of one entry: zero-copy for aligned F32, else a widened copy.
    /// nil for element types bertc does not import.
    public func floatBuffer(_ e: SafetensorsEntry) -> TensorBuffer? {
        let start = dataStart + e.begin
        let raw = map.bytes(start..<(dataStart + e.end))
        switch e.dtype {
        case .f32:
            if e.elementCount > 0, Int(bitPattern: map.base + start) % MemoryLayout<Float>.alignment == 0 {
                let p = (map.base + start).assumingMemoryBound(to: Float.self)
                return TensorBuffer(shape: e.shape, pointer: p, owner: map)
            }
            let owned = OwnedFloats(count: e.elementCount)
            if e.elementCount > 0, let src = raw.baseAddress {
                UnsafeMutableRawPointer(owned.pointer).copyMemory(from: src, byteCount: raw.count)
            }
            return TensorBuffer(shape: e.shape, pointer: UnsafePointer(owned.pointer), owner: owned)
        case .f16, .bf16:
            let owned = OwnedFloats(count: e.elementCount)
            if e.elementCount > 0, let src = raw.baseAddress {
                let widen = { (p: UnsafePointer<UInt16>) in
                    if e.dtype == .f16 { bk_f16_to_f32(p, owned.pointer, e.elementCount) }
                    else { bk_bf16_to_f32(p, owned.pointer, e.elementCount) }
                }
                if Int(bitPattern: src) % 2 == 0 {
                    widen(src.assumingMemoryBound(to: UInt16.self))
                } else {
                    // Misaligned half floats: copy to an aligned scratch buffer first.
                    let tmp = UnsafeMutableRawPointer.allocate(byteCount: raw.count, alignment: 16)
                    defer { tmp.deallocate() }
                    tmp.copyMemory(from: src, byteCount: raw.count)
                    widen(UnsafePointer(tmp.bindMemory(to: UInt16.self, capacity: e.elementCount)))
                }
            }
            return TensorBuffer(shape: e.shape, pointer: UnsafePointer(owned.pointer), owner: owned)
        default:
            return nil
        }
    }
}

/// Reads one .safetensors file.
public struct SafetensorsSource: WeightSource {
    public let path: String
    public var format: String { "safetensors" }
    public init(path: String) { self.path = path }

    public func readTensors() throws -> RawTensors {
        let file = try SafetensorsFile(path: path)
        var out = RawTensors(format: format)
        out.sourceBytes = file.map.size
        for e in file.entries {
            if let buf = file.floatBuffer(e) {
                out.tensors[e.name] = buf
                out.origin[e.name] = path
            } else if MaskTensors.looksLikeMask(e.name), let mask = file.integerMask(e) {
                out.integerMasks[e.name] = mask
                out.origin[e.name] = path
                out.skipped[e.name] = e.dtype.rawValue  // also listed as not a float tensor (shard checks)
            } else {
                out.skipped[e.name] = e.dtype.rawValue
            }
        }
        return out
    }
}
