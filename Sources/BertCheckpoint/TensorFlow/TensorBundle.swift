/// A TensorFlow tensor bundle (what tf.compat.v1.train.Saver and tf.train.Checkpoint write):
/// `PREFIX.index`, a LevelDB table whose "" key holds a BundleHeaderProto and whose other keys are
/// tensor names holding BundleEntryProtos, plus the data shards `PREFIX.data-NNNNN-of-NNNNN`.
/// Opening validates the index; `data(of:)` checks an entry's offset and size against its shard
/// and its masked CRC32C against the bytes. Errors name the .index or data file at fault.
import BertIR
import CBertKernels
import Foundation

final class TensorBundle {
    let indexPath: String
    let prefix: String
    let header: BundleHeader
    /// Entries in index (name) order.
    let entries: [BundleEntry]
    private var shards: [Int: MappedFile] = [:]

    init(indexPath: String) throws {
        self.indexPath = indexPath
        prefix = indexPath.hasSuffix(".index") ? String(indexPath.dropLast(6)) : indexPath
        let table = try SSTable(path: indexPath)
        guard let first = table.entries.first, first.key.isEmpty else {
            throw BertError(indexPath, "no bundle header (the empty key) in the index")
        }
        do {
            header = try BundleHeader.decode(first.value)
        } catch let e as MalformedProto {
            throw BertError(indexPath, e.message)
        }
        guard header.endianness == 0 else {
            throw BertError(indexPath, "bundle is big-endian (endianness \(header.endianness)); only little-endian is supported")
        }
        var list: [BundleEntry] = []
        list.reserveCapacity(table.entries.count - 1)
        for item in table.entries.dropFirst() {
            guard let name = String(bytes: item.key, encoding: .utf8), !name.contains("\u{0}") else {
                throw BertError(indexPath, "index key is not a tensor name (partitioned-variable slices are not supported)")
            }
            let e: BundleEntry
            do { e = try BundleEntry.decode(item.value, name: name) } catch let m as MalformedProto {
                throw BertError(indexPath, m.message)
            }
            if e.hasSlices {
                throw BertError(indexPath, "tensor '\(name)' is a partitioned variable (slices); not supported")
            }
            guard e.shardID < header.numShards else {
                throw BertError(indexPath, "tensor '\(name)' is in shard \(e.shardID) but the bundle has \(header.numShards)")
            }
            if let s = e.dtype.size {
                let (bytes, o) = e.elementCount.multipliedReportingOverflow(by: s)
                guard !o, bytes == e.size else {
                    throw BertError(indexPath, "tensor '\(name)': shape \(e.shape) of \(e.dtype) needs \(o ? "too many" : String(bytes)) bytes but the entry says \(e.size)")
                }
            }
            let (end, o) = e.offset.addingReportingOverflow(e.size)
            guard !o, end <= Int(Int64.max / 2) else { throw BertError(indexPath, "tensor '\(name)': offset \(e.offset) + size \(e.size) overflows") }
            list.append(e)
        }
        // Within a shard the tensors' bytes may not overlap: each is read (and maybe widened) once,
        // so what the reader allocates stays within the shards' sizes.
        let ordered = list.filter { $0.size > 0 }.sorted { ($0.shardID, $0.offset, $0.name) < ($1.shardID, $1.offset, $1.name) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where a.shardID == b.shardID && b.offset < a.offset + a.size {
            throw BertError(indexPath, "tensor '\(b.name)' at offset \(b.offset) overlaps tensor '\(a.name)' (offset \(a.offset), size \(a.size)) in shard \(a.shardID)")
        }
        entries = list
    }

    /// `PREFIX.data-NNNNN-of-NNNNN` for shard `id`.
    func shardPath(_ id: Int) -> String {
        prefix + ".data-" + Self.pad5(id) + "-of-" + Self.pad5(header.numShards)
    }

    static func pad5(_ n: Int) -> String {
        let s = String(n)
        return s.count >= 5 ? s : String(repeating: "0", count: 5 - s.count) + s
    }

    /// The mapped data shard `id` (opened once).
    func shard(_ id: Int) throws -> MappedFile {
        if let m = shards[id] { return m }
        let p = shardPath(id)
        guard FileManager.default.fileExists(atPath: p) else {
            throw BertError(p, "data shard of \((indexPath as NSString).lastPathComponent) is missing")
        }
        let m = try MappedFile(path: p)
        shards[id] = m
        return m
    }

    /// The bytes of `e` in its shard after bounds and CRC32C checks, with the shard that holds them.
    /// String tensors are only bounds-checked (their checksum covers an encoding bertc does not read).
    func data(of e: BundleEntry) throws -> (MappedFile, UnsafeRawBufferPointer) {
        let map = try shard(e.shardID)
        guard e.offset <= map.size, e.size <= map.size - e.offset else {
            throw BertError(map.path, "tensor '\(e.name)' at offset \(e.offset), size \(e.size) runs past the end of the file (\(map.size) bytes)")
        }
        let bytes = map.bytes(e.offset..<(e.offset + e.size))
        if e.dtype != .string {
            guard let stored = e.crc32c else {
                throw BertError(indexPath, "tensor '\(e.name)' has no crc32c")
            }
            let crc = bk_crc32c(0, bytes.baseAddress, bytes.count)
            guard MaskedCRC.unmask(stored) == crc else {
                throw BertError(map.path, "tensor '\(e.name)' fails its CRC32C check (stored 0x\(String(MaskedCRC.unmask(stored), radix: 16)), data 0x\(String(crc, radix: 16)))")
            }
        }
        return (map, bytes)
    }
}
