/// A reader for LevelDB-format tables (the `.index` file of a TensorFlow tensor bundle).
/// Layout: data blocks, a metaindex block, an index block, and a 48-byte footer (metaindex handle
/// and index handle as varint (offset, size) pairs, zero padding to 40 bytes, then the magic
/// 0xdb4775248b80fb57 little-endian). Each block is followed by a 5-byte trailer: the compression
/// type (only 0, uncompressed, is accepted) and the masked CRC32C of the block and type byte.
/// A block holds entries (varints shared key length, unshared key length, value length; the unshared
/// key bytes; the value) then a uint32 restart array and its uint32 count. Every handle, length and
/// count is checked against the file size before it is used; data blocks may not overlap (each is
/// copied once) and the keys they expand to are capped (`maxKeyBytes`, `maxExpandedKeyBytes`), so a
/// hostile table cannot make the reader allocate more than a small multiple of its size.
import BertIR
import CBertKernels

/// LevelDB's CRC mask (also used for TensorFlow's tensor checksums).
enum MaskedCRC {
    static let delta: UInt32 = 0xa282_ead8
    static func mask(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ delta }
    static func unmask(_ masked: UInt32) -> UInt32 {
        let rot = masked &- delta
        return (rot >> 17) | (rot << 15)
    }
}

/// A parsed table: every key/value pair in key order.
struct SSTable {
    static let magic: UInt64 = 0xdb47_7524_8b80_fb57
    static let footerSize = 48
    /// Longest key (a tensor name) accepted.
    static let maxKeyBytes = 1 << 16
    /// Prefix compression lets a block expand to longer keys than it stores: the expanded keys of a
    /// table may total at most 16 bytes per file byte (real TensorFlow indexes expand about 3x).
    static func maxExpandedKeyBytes(fileSize: Int) -> Int { 16 * fileSize + (1 << 16) }

    let path: String
    /// Keys (raw bytes) and values, in the table's (strictly increasing) key order.
    var entries: [(key: [UInt8], value: ArraySlice<UInt8>)] = []

    init(path: String) throws {
        self.path = path
        let map = try MappedFile(path: path)
        let size = map.size
        guard size >= Self.footerSize else {
            throw BertError(path, "file size \(size) is smaller than the \(Self.footerSize)-byte table footer")
        }
        let footer = [UInt8](map.bytes((size - Self.footerSize)..<size))
        var magic: UInt64 = 0
        for i in 0..<8 { magic |= UInt64(footer[40 + i]) << (8 * UInt64(i)) }
        guard magic == Self.magic else {
            throw BertError(path, "bad table magic 0x\(String(magic, radix: 16)) (not a LevelDB table / TensorFlow .index file, or truncated)")
        }
        let limit = size - Self.footerSize
        var pos = footer.startIndex
        func handle(_ what: String) throws -> (Int, Int) {
            let slice = footer[0..<40]
            guard let (off, p1) = ProtoReader.varint(slice, at: pos), let (len, p2) = ProtoReader.varint(slice, at: p1) else {
                throw BertError(path, "footer: malformed \(what) handle")
            }
            pos = p2
            return try Self.checkHandle(off, len, limit: limit, path: path, what: what)
        }
        _ = try handle("metaindex block")
        let index = try handle("index block")
        let indexBlock = try Self.readBlock(map, index, path: path, what: "index block")
        var all: [(key: [UInt8], value: ArraySlice<UInt8>)] = []
        var keyBudget = Self.maxExpandedKeyBytes(fileSize: size)
        var nextFree = 0  // data blocks come in file order and do not overlap
        for (n, entry) in try Self.parseBlock(indexBlock, path: path, what: "index block", keyBudget: &keyBudget).enumerated() {
            guard let (off, p1) = ProtoReader.varint(entry.value, at: entry.value.startIndex),
                  let (len, _) = ProtoReader.varint(entry.value, at: p1) else {
                throw BertError(path, "index block entry \(n): malformed block handle")
            }
            let h = try Self.checkHandle(off, len, limit: limit, path: path, what: "data block \(n)")
            guard h.0 >= nextFree else {
                throw BertError(path, "data block \(n) at offset \(h.0) overlaps the block before it (which ends at \(nextFree))")
            }
            nextFree = h.0 + h.1 + 5
            let block = try Self.readBlock(map, h, path: path, what: "data block \(n)")
            for e in try Self.parseBlock(block, path: path, what: "data block \(n)", keyBudget: &keyBudget) {
                if let last = all.last, !last.key.lexicographicallyPrecedes(e.key) {
                    throw BertError(path, "data block \(n): keys are not in increasing order")
                }
                all.append(e)
            }
        }
        entries = all
    }

    /// Validates a block handle: the block and its 5-byte trailer lie before `limit`.
    static func checkHandle(_ off: UInt64, _ len: UInt64, limit: Int, path: String, what: String) throws -> (Int, Int) {
        guard off <= UInt64(limit), len <= UInt64(limit), off + len + 5 <= UInt64(limit) else {
            throw BertError(path, "\(what) at offset \(off), size \(len) lies outside the file (\(limit) bytes before the footer)")
        }
        return (Int(off), Int(len))
    }

    /// The bytes of one block after checking its trailer (compression type and masked CRC32C).
    static func readBlock(_ map: MappedFile, _ h: (Int, Int), path: String, what: String) throws -> [UInt8] {
        let (off, len) = h
        let withType = map.bytes(off..<(off + len + 1))
        let trailer = [UInt8](map.bytes((off + len)..<(off + len + 5)))
        let type = trailer[0]
        guard type == 0 else {
            let kind = type == 1 ? "Snappy" : type == 2 ? "Zstd" : "type \(type)"
            throw BertError(path, "\(what) is compressed (\(kind)); only uncompressed tables are supported")
        }
        let stored = UInt32(trailer[1]) | UInt32(trailer[2]) << 8 | UInt32(trailer[3]) << 16 | UInt32(trailer[4]) << 24
        let actual = bk_crc32c(0, withType.baseAddress, withType.count)
        guard MaskedCRC.unmask(stored) == actual else {
            throw BertError(path, "\(what) at offset \(off) fails its CRC32C check (corrupt file)")
        }
        return [UInt8](map.bytes(off..<(off + len)))
    }

    /// The entries of one block on its own (its keys may expand to 16 bytes per block byte).
    static func parseBlock(_ b: [UInt8], path: String, what: String) throws -> [(key: [UInt8], value: ArraySlice<UInt8>)] {
        var budget = maxExpandedKeyBytes(fileSize: b.count)
        return try parseBlock(b, path: path, what: what, keyBudget: &budget)
    }

    /// The entries of one block, keys expanded from their shared prefixes; the expanded key bytes are
    /// taken from `keyBudget`, and running out of it is an error.
    static func parseBlock(_ b: [UInt8], path: String, what: String,
                           keyBudget: inout Int) throws -> [(key: [UInt8], value: ArraySlice<UInt8>)] {
        let n = b.count
        guard n >= 4 else { throw BertError(path, "\(what): \(n) bytes is too small for a block") }
        let restarts = Int(UInt32(b[n - 4]) | UInt32(b[n - 3]) << 8 | UInt32(b[n - 2]) << 16 | UInt32(b[n - 1]) << 24)
        guard restarts <= (n - 4) / 4 else {
            throw BertError(path, "\(what): restart count \(restarts) does not fit in the block's \(n) bytes")
        }
        let end = n - 4 - 4 * restarts
        let all = b[0..<end]
        var out: [(key: [UInt8], value: ArraySlice<UInt8>)] = []
        var key: [UInt8] = []
        var p = 0
        while p < end {
            guard let (shared, p1) = ProtoReader.varint(all, at: p),
                  let (unshared, p2) = ProtoReader.varint(all, at: p1),
                  let (vlen, p3) = ProtoReader.varint(all, at: p2) else {
                throw BertError(path, "\(what): malformed entry header at byte \(p)")
            }
            guard shared <= UInt64(key.count) else {
                throw BertError(path, "\(what): entry at byte \(p) shares \(shared) bytes of a \(key.count)-byte key")
            }
            guard unshared <= UInt64(end - p3), vlen <= UInt64(end - p3) - unshared else {
                throw BertError(path, "\(what): entry at byte \(p) runs past the end of the block")
            }
            guard shared + unshared <= UInt64(Self.maxKeyBytes) else {
                throw BertError(path, "\(what): entry at byte \(p) has a key of \(shared + unshared) bytes (at most \(Self.maxKeyBytes))")
            }
            keyBudget -= Int(shared + unshared)
            guard keyBudget >= 0 else {
                throw BertError(path, "\(what): keys expand to more than 16 bytes per byte of the file (hostile prefix compression)")
            }
            key.removeSubrange(Int(shared)...)
            key.append(contentsOf: all[p3..<(p3 + Int(unshared))])
            let vstart = p3 + Int(unshared)
            p = vstart + Int(vlen)
            out.append((key, all[vstart..<p]))
        }
        return out
    }
}
