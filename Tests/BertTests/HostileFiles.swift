import BertIR
import CBertKernels
import Foundation

@testable import BertArtifact
@testable import BertCheckpoint

/// Byte builders for hostile files the allocation tests craft: TensorFlow index tables (LevelDB
/// blocks, protobuf bundle entries, masked CRC32C trailers) and bertc artifacts (header, section
/// table, checksums). Valid framing around whatever counts a test wants to lie about.
enum HostileFiles {
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    static func varint(_ v: UInt64) -> [UInt8] {
        var out: [UInt8] = [], x = v
        while x >= 0x80 { out.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
        return out + [UInt8(x)]
    }

    static func crc32c(_ b: [UInt8]) -> UInt32 { b.withUnsafeBytes { bk_crc32c(0, $0.baseAddress, $0.count) } }

    // MARK: TensorFlow bundle index

    static func field(_ n: Int, varint v: UInt64) -> [UInt8] { varint(UInt64(n << 3)) + varint(v) }
    static func field(_ n: Int, bytes b: [UInt8]) -> [UInt8] { varint(UInt64(n << 3 | 2)) + varint(UInt64(b.count)) + b }

    static func bundleHeader() -> [UInt8] { field(1, varint: 1) + field(2, varint: 0) }

    /// A BundleEntryProto (dtype 1 float, 14 bfloat16) at `offset`/`size` of shard 0 with `crc` (unmasked).
    static func bundleEntry(dtype: Int, shape: [Int], offset: UInt64, size: UInt64, crc: UInt32) -> [UInt8] {
        let dims = shape.flatMap { field(2, bytes: field(1, varint: UInt64($0))) }
        return field(1, varint: UInt64(dtype)) + field(2, bytes: dims) + field(3, varint: 0)
            + field(4, varint: offset) + field(5, varint: size) + varint(6 << 3 | 5) + le32(MaskedCRC.mask(crc))
    }

    /// A block holding `entries` as raw (shared, key suffix, value) triples, then one restart point.
    static func block(_ entries: [(shared: Int, suffix: [UInt8], value: [UInt8])]) -> [UInt8] {
        var b: [UInt8] = []
        for e in entries {
            b += varint(UInt64(e.shared)) + varint(UInt64(e.suffix.count)) + varint(UInt64(e.value.count)) + e.suffix + e.value
        }
        return b + le32(0) + le32(1)
    }

    /// A table of `dataBlocks`, an empty metaindex block, an index block and the footer.
    /// `indexHandle` replaces the footer's index handle (to point it outside the file).
    static func table(_ dataBlocks: [[UInt8]], indexHandle: (UInt64, UInt64)? = nil) -> [UInt8] {
        var out: [UInt8] = []
        func append(_ b: [UInt8]) -> (UInt64, UInt64) {
            let h = (UInt64(out.count), UInt64(b.count))
            out += b + [0] + le32(MaskedCRC.mask(crc32c(b + [0])))
            return h
        }
        let handles = dataBlocks.map(append)
        let meta = append(block([]))
        let index = append(block(handles.enumerated().map { i, h in
            (0, [0xFF, UInt8(i)], varint(h.0) + varint(h.1))
        }))
        let ih = indexHandle ?? index
        var footer = varint(meta.0) + varint(meta.1) + varint(ih.0) + varint(ih.1)
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        return out + footer + le64(SSTable.magic)
    }

    // MARK: artifacts

    /// An artifact of `sections` (DATA first, right after the table, at `dataOffset(count:)`), with
    /// every checksum right.
    static func artifact(_ sections: [(SectionKind, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        var table: [UInt8] = []
        var offset = 64 + 32 * sections.count
        for (kind, bytes) in sections {
            let aligned = ArtifactFormat.align(offset, 64)
            body += [UInt8](repeating: 0, count: aligned - offset) + bytes
            let sum = bytes.withUnsafeBytes { hash($0) }
            table += le32(kind.rawValue) + le32(0) + le64(UInt64(aligned)) + le64(UInt64(bytes.count)) + le64(sum)
            offset = aligned + bytes.count
        }
        let size = 64 + table.count + body.count
        var header = ArtifactFormat.magic + le32(ArtifactFormat.version) + le32(0) + le64(UInt64(sections.count))
            + le64(64) + le64(UInt64(size))
        header += le64(headerChecksum(header, table)) + [UInt8](repeating: 0, count: 16)
        return header + table + body
    }

    /// Where `artifact` puts its first section.
    static func dataOffset(count: Int) -> Int { ArtifactFormat.align(64 + 32 * count, 64) }

    /// Sets a u64 of the section table (entry `i`, byte `field` of it) and fixes the header checksum.
    static func patchTable(_ b: inout [UInt8], entry i: Int, field: Int, _ v: UInt64) {
        let at = 64 + 32 * i + field
        b.replaceSubrange(at..<(at + 8), with: le64(v))
        let count = Int(b[16])
        b.replaceSubrange(40..<48, with: le64(headerChecksum(Array(b[0..<40]), Array(b[64..<(64 + 32 * count)]))))
    }

    /// A TENSOR_TABLE declaring `count` entries followed by one f32 entry.
    static func tensorTable(count: UInt64, name: String, encoding: UInt8, shape: [Int], offset: Int, bytes: Int) -> [UInt8] {
        let n = Array(name.utf8)
        return le64(count) + le32(UInt32(n.count)) + n + [0, encoding] + [UInt8(shape.count), 0]
            + shape.flatMap { le64(UInt64($0)) } + le64(UInt64(offset)) + le64(UInt64(bytes))
    }

    static func metadata(base: BaseReference?) throws -> [UInt8] {
        try MetadataSection(metadata: ModelMetadata(architecture: "BertModel", maxPosition: 64),
                            vocabInline: base == nil, base: base).encoded()
    }
}
