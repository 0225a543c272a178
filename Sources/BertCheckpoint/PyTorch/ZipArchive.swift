/// A read-only zip archive (PKWARE APPNOTE): the end-of-central-directory record (searched backwards
/// within the last 64 KiB + 22 bytes), the zip64 locator and end record, central-directory entries
/// (with the zip64 extra field), local headers, and stored (0) or deflated (8) entry data whose CRC-32
/// is verified. Every count, offset and size is checked against the file size before use. Memory: a
/// deflated entry may declare at most `maxDeflateRatio` times its compressed size, inflating grows
/// with the real output, and entries may not overlap (each local header, name and compressed data
/// own their bytes), so everything inflated totals at most 1032 bytes per byte of the file (the
/// ratio deflate itself cannot exceed: a 258-byte match coded in 2 bits), never a declared count.
import BertIR
import Foundation

/// One central-directory entry.
struct ZipEntry {
    var name: String
    var method: Int
    var flags: Int
    var crc: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
}

/// Bytes owned by an inflated entry (64-byte aligned, so float data can be used in place).
final class ZipOwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int
    init(_ bytes: [UInt8]) {
        count = bytes.count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { pointer.copyMemory(from: b, byteCount: count) } }
    }
    deinit { pointer.deallocate() }
}

/// The data of one entry: a view into the map (stored) or into an owned buffer (deflated).
struct ZipData {
    let bytes: UnsafeRawBufferPointer
    let owner: AnyObject
}

final class ZipArchive: @unchecked Sendable {
    /// Deflate cannot expand beyond 1032:1 (plus a few bytes of block headers).
    static let maxDeflateRatio = 1032
    let path: String
    let map: MappedFile
    let entries: [ZipEntry]
    let index: [String: Int]

    convenience init(path: String) throws {
        try self.init(map: MappedFile(path: path))
    }

    init(map: MappedFile) throws {
        let path = map.path
        self.path = path
        self.map = map
        let size = map.size
        func u16(_ o: Int) -> Int { Int(map.base.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian) }
        func u32(_ o: Int) -> Int { Int(map.base.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian) }
        func u64(_ o: Int) -> UInt64 { map.base.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian }

        guard size >= 22 else { throw BertError(path, "not a zip archive: file size \(size) is smaller than an end-of-central-directory record") }
        // End of central directory: the last signature whose comment fits the file.
        var eocd = -1
        var p = size - 22
        let lowest = max(0, size - 22 - 65535)
        while p >= lowest {
            if u32(p) == 0x0605_4B50 && p + 22 + u16(p + 20) <= size { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw BertError(path, "not a zip archive: no end-of-central-directory record") }
        var count = u16(eocd + 10)
        var cdSize = u32(eocd + 12)
        var cdOffset = u32(eocd + 16)
        guard u16(eocd + 4) == 0, u16(eocd + 6) == 0 || u16(eocd + 6) == 0xFFFF else {
            throw BertError(path, "multi-disk zip archives are not supported")
        }
        var cdLimit = eocd
        // Zip64: a locator right before the end record points to the zip64 end record.
        if eocd >= 20 && u32(eocd - 20) == 0x0706_4B50 {
            let loc = eocd - 20
            let off64 = u64(loc + 8)
            guard off64 <= UInt64(loc), Int(off64) + 56 <= loc else {
                throw BertError(path, "zip64 end record offset \(off64) is outside the file")
            }
            let z = Int(off64)
            guard u32(z) == 0x0606_4B50 else { throw BertError(path, "zip64 end record has a bad signature") }
            let total = u64(z + 32), size64 = u64(z + 40), offset64 = u64(z + 48)
            guard total <= UInt64(size), size64 <= UInt64(size), offset64 <= UInt64(size) else {
                throw BertError(path, "zip64 end record counts exceed the file size")
            }
            count = Int(total)
            cdSize = Int(size64)
            cdOffset = Int(offset64)
            cdLimit = z
        } else if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            throw BertError(path, "zip64 archive without a zip64 end-of-central-directory locator")
        }
        guard cdOffset + cdSize <= cdLimit else {
            throw BertError(path, "central directory [\(cdOffset), +\(cdSize)] runs past its end record at \(cdLimit)")
        }
        guard count <= cdSize / 46 else {
            throw BertError(path, "central directory of \(cdSize) bytes cannot hold \(count) entries")
        }
        var entries: [ZipEntry] = []
        entries.reserveCapacity(count)
        var index: [String: Int] = [:]
        var q = cdOffset
        let cdEnd = cdOffset + cdSize
        for i in 0..<count {
            guard q + 46 <= cdEnd else { throw BertError(path, "central directory entry \(i) runs past the directory") }
            guard u32(q) == 0x0201_4B50 else { throw BertError(path, "central directory entry \(i) has a bad signature") }
            let flags = u16(q + 8), method = u16(q + 10)
            let crc = UInt32(u32(q + 16))
            var csize = u32(q + 20), usize = u32(q + 24)
            let nameLen = u16(q + 28), extraLen = u16(q + 30), commentLen = u16(q + 32)
            var disk = u16(q + 34)
            var local = u32(q + 42)
            let nameStart = q + 46
            let extraStart = nameStart + nameLen
            let next = extraStart + extraLen + commentLen
            guard next <= cdEnd else { throw BertError(path, "central directory entry \(i) runs past the directory") }
            guard let name = String(bytes: map.bytes(nameStart..<extraStart), encoding: .utf8) else {
                throw BertError(path, "central directory entry \(i) has a name that is not UTF-8")
            }
            // Zip64 extended information: the fields that are all ones in the fixed header, in order.
            var e = extraStart
            while e + 4 <= extraStart + extraLen {
                let id = u16(e), len = u16(e + 2)
                guard e + 4 + len <= extraStart + extraLen else { throw BertError(path, "entry '\(name)': extra field runs past its record") }
                if id == 0x0001 {
                    var f = e + 4
                    let end = e + 4 + len
                    func take() throws -> Int {
                        guard f + 8 <= end else { throw BertError(path, "entry '\(name)': zip64 extra field is too short") }
                        let v = u64(f)
                        f += 8
                        guard v <= UInt64(size) * 1100 else { throw BertError(path, "entry '\(name)': zip64 size \(v) is implausible for a \(size)-byte file") }
                        return Int(v)
                    }
                    if usize == 0xFFFF_FFFF { usize = try take() }
                    if csize == 0xFFFF_FFFF { csize = try take() }
                    if local == 0xFFFF_FFFF { local = try take() }
                    if disk == 0xFFFF { guard f + 4 <= end else { throw BertError(path, "entry '\(name)': zip64 extra field is too short") }; disk = u32(f) }
                }
                e += 4 + len
            }
            guard usize != 0xFFFF_FFFF, csize != 0xFFFF_FFFF, local != 0xFFFF_FFFF else {
                throw BertError(path, "entry '\(name)': zip64 sizes without a zip64 extra field")
            }
            guard disk == 0 else { throw BertError(path, "entry '\(name)': multi-disk archives are not supported") }
            guard flags & 1 == 0 else { throw BertError(path, "entry '\(name)' is encrypted") }
            guard method == 0 || method == 8 else {
                throw BertError(path, "entry '\(name)': compression method \(method) is not supported (only stored and deflated)")
            }
            guard local <= size, csize <= size else {
                throw BertError(path, "entry '\(name)': offset \(local) or size \(csize) exceeds file size \(size)")
            }
            if method == 0 && csize != usize {
                throw BertError(path, "entry '\(name)': stored entry has compressed size \(csize) but size \(usize)")
            }
            if method == 8 && usize > csize * Self.maxDeflateRatio + 1024 {
                throw BertError(path, "entry '\(name)': \(csize) deflated bytes cannot hold \(usize) bytes (deflate expands at most \(Self.maxDeflateRatio)x)")
            }
            guard index[name] == nil else { throw BertError(path, "entry '\(name)' appears twice") }
            index[name] = entries.count
            entries.append(ZipEntry(name: name, method: method, flags: flags, crc: crc, compressedSize: csize,
                                    uncompressedSize: usize, localHeaderOffset: local))
            q = next
        }
        // Entries may not overlap: each needs its local header, name and compressed bytes to itself.
        let byOffset = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst())
        where a.localHeaderOffset + 30 + a.name.utf8.count + a.compressedSize > b.localHeaderOffset {
            throw BertError(path, "entry '\(b.name)' at offset \(b.localHeaderOffset) overlaps entry '\(a.name)' (overlapping entries are a zip-bomb trick)")
        }
        self.entries = entries
        self.index = index
    }

    func entry(_ name: String) -> ZipEntry? { index[name].map { entries[$0] } }

    /// The entry's data, CRC-checked: in place for stored entries, inflated for deflated ones.
    func data(_ e: ZipEntry) throws -> ZipData {
        let size = map.size
        let h = e.localHeaderOffset
        guard h + 30 <= size else { throw BertError(path, "entry '\(e.name)': local header at \(h) is outside the file") }
        let b = map.base
        guard b.loadUnaligned(fromByteOffset: h, as: UInt32.self).littleEndian == 0x0403_4B50 else {
            throw BertError(path, "entry '\(e.name)': local header has a bad signature")
        }
        let nameLen = Int(b.loadUnaligned(fromByteOffset: h + 26, as: UInt16.self).littleEndian)
        let extraLen = Int(b.loadUnaligned(fromByteOffset: h + 28, as: UInt16.self).littleEndian)
        let start = h + 30 + nameLen + extraLen
        guard start + e.compressedSize <= size else {
            throw BertError(path, "entry '\(e.name)': data [\(start), +\(e.compressedSize)] runs past the end of the file (\(size) bytes)")
        }
        guard map.bytes((h + 30)..<(h + 30 + nameLen)).elementsEqual(e.name.utf8) else {
            throw BertError(path, "entry '\(e.name)': local header names a different file")
        }
        let raw = map.bytes(start..<(start + e.compressedSize))
        let result: ZipData
        if e.method == 0 {
            result = ZipData(bytes: raw, owner: map)
        } else {
            let out = try Inflate.inflate(raw, limit: e.uncompressedSize, file: path, what: "entry '\(e.name)'")
            guard out.count == e.uncompressedSize else {
                throw BertError(path, "entry '\(e.name)': inflated to \(out.count) bytes but the directory says \(e.uncompressedSize)")
            }
            let owned = ZipOwnedBytes(out)
            result = ZipData(bytes: UnsafeRawBufferPointer(start: owned.pointer, count: owned.count), owner: owned)
        }
        let crc = ZipCRC32.checksum(result.bytes)
        guard crc == e.crc else {
            throw BertError(path, "entry '\(e.name)': CRC-32 mismatch (stored \(String(e.crc, radix: 16)), computed \(String(crc, radix: 16)))")
        }
        return result
    }
}
