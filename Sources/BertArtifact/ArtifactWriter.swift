/// `ArtifactWriter`: lays out and writes an artifact (see `ArtifactFormat.swift` for the layout).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BertIR
import BertSparse
import CBertKernels

public enum ArtifactWriter {
    /// Writes atomically: a temp file in the destination folder, fsync, rename; on any error the
    /// temp file is removed and nothing is left at `path`. Returns bytes written.
    /// Dense tensors are written straight from their `TensorBuffer`s (no copies); mask and delta
    /// storages are encoded against `base` (the base model's weights), csr from the tensor itself.
    @discardableResult
    public static func write(_ contents: ArtifactContents, weights: WeightStore, base: WeightStore? = nil,
                             to path: String) throws -> Int {
        let plan = try Plan(contents, weights: weights, base: base, path: path)
        return try AtomicFile.write(to: path) { out in try plan.emit(&out) }
    }
}

/// The precomputed layout of one artifact.
private struct Plan {
    struct Section { var kind: SectionKind; var offset: Int; var size: Int; var bytes: [UInt8]? }
    /// A tensor's bytes: its dense values in place, or an encoded blob.
    enum Payload {
        case dense(TensorBuffer)
        case encoded([UInt8])
        var byteCount: Int {
            switch self {
            case .dense(let b): return b.byteCount
            case .encoded(let bytes): return bytes.count
            }
        }
    }
    struct DataEntry { var decl: TensorDecl; var payload: Payload; var offset: Int }

    let path: String
    var sections: [Section] = []
    var entries: [DataEntry] = []
    var dataOffset = 0
    var dataSize = 0
    var fileSize = 0

    init(_ c: ArtifactContents, weights: WeightStore, base: WeightStore?, path: String) throws {
        self.path = path
        // Check the inputs before anything is created on disk.
        var seen = Set<String>()
        var dense: [(TensorDecl, Payload)] = []
        for t in c.module.tensors {
            guard seen.insert(t.name).inserted else { throw BertError(path, "tensor \(t.name) is declared twice") }
            guard t.shape.allSatisfy({ $0 >= 0 }) else { throw BertError(path, "tensor \(t.name) has a negative dimension") }
            if t.storage == .shared {
                guard c.base != nil else {
                    throw BertError(path, "tensor \(t.name) is shared with a base model but no base is referenced")
                }
                continue
            }
            guard t.dtype == .f32 else {
                throw BertError(path, "tensor \(t.name) is \(t.dtype.rawValue); stored data must be f32")
            }
            guard let b = weights[t.name] else { throw BertError(path, "tensor \(t.name) has no data") }
            guard b.shape == t.shape else {
                throw BertError(path, "tensor \(t.name) data has shape \(b.shape), declared \(t.shape)")
            }
            dense.append((t, try Plan.payload(t, b, base: base, hasBaseReference: c.base != nil, path: path)))
        }
        if c.vocab == nil && c.base == nil {
            throw BertError(path, "no vocabulary given and no base model to take it from")
        }
        if let b = c.base, !b.hasValidFingerprint {
            throw BertError(path, "base fingerprint \"\(oneLine(b.fingerprint))\" is not 16 hex digits")
        }
        if let v = c.vocab, let bad = v.first(where: { $0.contains("\n") || $0.contains("\r") }) {
            throw BertError(path, "vocab token \"\(oneLine(bad))\" contains a line break")
        }

        let ir = Array(IRPrinter.print(c.module).utf8)
        let meta = try MetadataSection(metadata: c.metadata, vocabInline: c.vocab != nil, base: c.base,
                                       statistics: c.statistics).encoded()
        let vocab = c.vocab.map { Array($0.joined(separator: "\n").utf8) }

        var tableSize = 8
        for (t, _) in dense { tableSize += 4 + t.name.utf8.count + 1 + 1 + 2 + 8 * t.shape.count + 8 + 8 }

        let count = vocab == nil ? 4 : 5
        var pos = ArtifactFormat.headerSize + count * ArtifactFormat.sectionEntrySize
        func add(_ kind: SectionKind, _ bytes: [UInt8]?, size: Int) {
            pos = ArtifactFormat.align(pos, 8)
            sections.append(Section(kind: kind, offset: pos, size: size, bytes: bytes))
            pos += size
        }
        add(.ir, ir, size: ir.count)
        add(.metadata, meta, size: meta.count)
        if let vocab { add(.vocab, vocab, size: vocab.count) }
        add(.tensorTable, nil, size: tableSize)
        dataOffset = ArtifactFormat.align(pos, ArtifactFormat.dataAlignment)
        var dpos = dataOffset
        for (t, payload) in dense {
            dpos = ArtifactFormat.align(dpos, ArtifactFormat.dataAlignment)
            entries.append(DataEntry(decl: t, payload: payload, offset: dpos))
            dpos += payload.byteCount
        }
        dataSize = dpos - dataOffset
        sections.append(Section(kind: .data, offset: dataOffset, size: dataSize, bytes: nil))
        fileSize = dpos
        // The table's bytes depend on the data offsets, which are now known.
        let tableIndex = sections.firstIndex { $0.kind == .tensorTable }!
        sections[tableIndex].bytes = tableBytes()
        guard sections[tableIndex].bytes!.count == tableSize else {
            throw BertError(path, "internal error: tensor table size mismatch")
        }
    }

    /// Encodes one stored tensor as its storage decision says.
    static func payload(_ t: TensorDecl, _ b: TensorBuffer, base: WeightStore?, hasBaseReference: Bool,
                        path: String) throws -> Payload {
        func baseTensor() throws -> TensorBuffer {
            guard hasBaseReference else { throw BertError(path, "tensor \(t.name) is stored against a base but no base is referenced") }
            guard let bt = base?[t.name], bt.shape == t.shape else {
                throw BertError(path, "tensor \(t.name): the base has no tensor of shape \(t.shape) to encode against")
            }
            return bt
        }
        switch t.storage {
        case .dense, .shared:
            return .dense(b)
        case .mask:
            guard let zeroed = SparseDelta.isBasePlusZeros(base: try baseTensor().buffer, tensor: b.buffer) else {
                throw BertError(path, "tensor \(t.name) is declared mask but is not the base with entries zeroed")
            }
            return .encoded(MaskEncoding.encode(zeroed))
        case .csr:
            guard t.shape.count == 2 else { throw BertError(path, "tensor \(t.name) is declared csr but is not 2-D") }
            return .encoded(CSRMatrix(dense: b.buffer, rows: t.shape[0], cols: t.shape[1]).serialized())
        case .delta:
            return .encoded(SparseDelta(base: try baseTensor().buffer, tensor: b.buffer).serialized())
        }
    }

    func tableBytes() -> [UInt8] {
        var b: [UInt8] = []
        b.appendLE(UInt64(entries.count))
        for e in entries {
            let name = Array(e.decl.name.utf8)
            b.appendLE(UInt32(name.count)); b += name
            b.append(ArtifactFormat.dtypeCode(e.decl.dtype))
            b.append(ArtifactFormat.encoding(for: e.decl.storage) ?? ArtifactFormat.encodingDenseF32)
            b.appendLE(UInt16(e.decl.shape.count))
            for d in e.decl.shape { b.appendLE(UInt64(d)) }
            b.appendLE(UInt64(e.offset))
            b.appendLE(UInt64(e.payload.byteCount))
        }
        return b
    }

    func emit(_ out: inout FileOutput) throws {
        // Header and table are written last (their checksums need the data's).
        try out.write([UInt8](repeating: 0, count: ArtifactFormat.headerSize + sections.count * ArtifactFormat.sectionEntrySize))
        var checksums: [UInt64] = []
        for s in sections where s.kind != .data {
            try out.pad(to: 8)
            guard out.position == s.offset, let bytes = s.bytes else { throw BertError(path, "internal error: layout") }
            try out.write(bytes)
            checksums.append(bytes.withUnsafeBytes { hash($0) })
        }
        try out.pad(to: ArtifactFormat.dataAlignment)
        for e in entries {
            try out.pad(to: ArtifactFormat.dataAlignment)
            guard out.position == e.offset else { throw BertError(path, "internal error: data layout") }
            switch e.payload {
            case .dense(let b): try out.write(UnsafeRawBufferPointer(start: UnsafeRawPointer(b.pointer), count: b.byteCount))
            case .encoded(let bytes): try out.write(bytes)
            }
        }
        guard out.position == fileSize else { throw BertError(path, "internal error: file size") }
        try out.flush()
        checksums.append(try hashWritten(out, offset: dataOffset, size: dataSize))

        var table: [UInt8] = []
        for (s, sum) in zip(sections, checksums) {
            table.appendLE(s.kind.rawValue); table.appendLE(UInt32(0))
            table.appendLE(UInt64(s.offset)); table.appendLE(UInt64(s.size)); table.appendLE(sum)
        }
        var header: [UInt8] = ArtifactFormat.magic
        header.appendLE(ArtifactFormat.version)
        header.appendLE(UInt32(0))
        header.appendLE(UInt64(sections.count))
        header.appendLE(UInt64(ArtifactFormat.headerSize))
        header.appendLE(UInt64(fileSize))
        header.appendLE(headerChecksum(header, table))
        header += [UInt8](repeating: 0, count: ArtifactFormat.headerSize - header.count)
        try out.patch(header + table, at: 0)
    }

    /// bk_hash64 of bytes already written to the file, read back through a map of it.
    func hashWritten(_ out: FileOutput, offset: Int, size: Int) throws -> UInt64 {
        if size == 0 { return emptyHash() }
        let len = offset + size
        guard let p = mmap(nil, len, PROT_READ, MAP_SHARED, out.fd, 0), p != MAP_FAILED else {
            throw BertError(path, "cannot map the written file: \(String(cString: strerror(errno)))")
        }
        defer { munmap(p, len) }
        return bk_hash64(UnsafeRawPointer(p) + offset, size, 0)
    }
}

/// bk_hash64 (seed 0) of a range of a read-only file mapping, releasing its pages as it goes.
func hashMapped(_ b: UnsafeRawBufferPointer) -> UInt64 {
    guard let base = b.baseAddress, b.count > 0 else { return emptyHash() }
    return bk_hash64_mapped(base, b.count, 0)
}

/// bk_hash64 (seed 0) of a byte range.
func hash(_ b: UnsafeRawBufferPointer) -> UInt64 {
    guard let base = b.baseAddress, b.count > 0 else { return emptyHash() }
    return bk_hash64(base, b.count, 0)
}

func emptyHash() -> UInt64 {
    var z: UInt8 = 0
    return bk_hash64(&z, 0, 0)
}

/// The header checksum: bk_hash64 of header bytes [0, 40) followed by the section table.
func headerChecksum(_ headerPrefix: [UInt8], _ table: [UInt8]) -> UInt64 {
    (Array(headerPrefix.prefix(40)) + table).withUnsafeBytes { hash($0) }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
