/// `Artifact`: reads and checks an artifact file (see `ArtifactFormat.swift`). The file is
/// memory-mapped; dense tensors are `TensorBuffer`s pointing into the map (no copy).
import BertIR
import BertSparse

public final class Artifact: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let contents: ArtifactContents
    /// The dense tensors, by name (shared tensors come from the base and are not here).
    public let weights: WeightStore
    /// Tensors stored encoded (storage mask, csr or delta), validated in place at load; decoded by
    /// `encodedTensor(named:)`.
    let encodedBlobs: [String: EncodedBlob]
    public let fileSize: Int
    /// The sections in table order (for `bertc dump`).
    public let sections: [(kind: String, offset: Int, size: Int)]
    /// Where each dense tensor's bytes are in the file.
    public let tensorOffsets: [String: Int]
    /// Bytes each stored tensor occupies in DATA (dense values or its encoding), by name.
    public let tensorByteCounts: [String: Int]
    /// The mapped file the tensors point into.
    public let file: MappedFile

    /// Maps and checks `path`. `verify: false` skips the section checksums (the header
    /// checksum, bounds and consistency are always checked). Every fault is one `BertError` naming `path`.
    public init(path: String, verify: Bool = true) throws {
        self.path = path
        let map = try MappedFile(path: path)
        file = map
        fileSize = map.size
        let all = map.size > 0 ? map.bytes(0..<map.size) : UnsafeRawBufferPointer(start: nil, count: 0)
        func fault(_ m: String) -> BertError { BertError(path, m) }

        // Header.
        guard map.size >= ArtifactFormat.headerSize else {
            throw fault("file is too small to be a bertc artifact (\(map.size) bytes)")
        }
        guard Array(all[0..<8]) == ArtifactFormat.magic else { throw fault("not a bertc artifact (bad magic)") }
        let ver = loadLE(all, 8, as: UInt32.self)
        guard ver == ArtifactFormat.version else {
            throw fault("artifact version \(ver) is not supported (this bertc reads \(ArtifactFormat.version))")
        }
        version = ver
        let flags = loadLE(all, 12, as: UInt32.self)
        guard flags == 0 else { throw fault("unknown header flags 0x\(String(flags, radix: 16))") }
        let declaredSize = loadLE(all, 32, as: UInt64.self)
        guard declaredSize == UInt64(map.size) else {
            throw fault("file is \(map.size) bytes but its header says \(declaredSize) (truncated or damaged)")
        }
        let count = loadLE(all, 16, as: UInt64.self)
        guard count >= 1, count <= UInt64(ArtifactFormat.maxSections) else {
            throw fault("section count \(count) is out of range (1...\(ArtifactFormat.maxSections))")
        }
        let tableOffset = loadLE(all, 24, as: UInt64.self)
        let tableBytes = Int(count) * ArtifactFormat.sectionEntrySize
        guard tableOffset >= UInt64(ArtifactFormat.headerSize), tableOffset <= UInt64(map.size),
              UInt64(tableBytes) <= UInt64(map.size) - tableOffset else {
            throw fault("section table (offset \(tableOffset), \(count) entries) lies outside the file")
        }
        let tableStart = Int(tableOffset)
        let table = UnsafeRawBufferPointer(rebasing: all[tableStart..<(tableStart + tableBytes)])
        guard all[48..<64].allSatisfy({ $0 == 0 }) else { throw fault("reserved header bytes are not zero") }
        let storedHeaderSum = loadLE(all, 40, as: UInt64.self)
        guard storedHeaderSum == headerChecksum(Array(all[0..<40]), Array(table)) else {
            throw fault("header checksum mismatch (header or section table is damaged)")
        }

        // Section table.
        var found: [SectionKind: Range<Int>] = [:]
        var ranges: [(Range<Int>, String)] = [(0..<ArtifactFormat.headerSize, "header"),
                                              (tableStart..<(tableStart + tableBytes), "section table")]
        var listing: [(kind: String, offset: Int, size: Int)] = []
        for i in 0..<Int(count) {
            let e = i * ArtifactFormat.sectionEntrySize
            let rawKind = loadLE(table, e, as: UInt32.self)
            let reserved = loadLE(table, e + 4, as: UInt32.self)
            let off = loadLE(table, e + 8, as: UInt64.self)
            let size = loadLE(table, e + 16, as: UInt64.self)
            let sum = loadLE(table, e + 24, as: UInt64.self)
            let kind = SectionKind(rawValue: rawKind)
            let name = kind?.name ?? "UNKNOWN(\(rawKind))"
            guard reserved == 0 else { throw fault("section \(i) (\(name)): reserved field is not zero") }
            guard off <= UInt64(map.size), size <= UInt64(map.size) - off else {
                throw fault("section \(i) (\(name)) at offset \(off), size \(size) lies outside the file (\(map.size) bytes)")
            }
            let r = Int(off)..<(Int(off) + Int(size))
            if !r.isEmpty {
                for (other, otherName) in ranges where other.overlaps(r) {
                    throw fault("section \(i) (\(name)) overlaps the \(otherName)")
                }
                ranges.append((r, "\(name) section"))
            }
            if let kind {
                guard found[kind] == nil else { throw fault("section \(name) appears twice") }
                found[kind] = r
            }
            if verify {
                let got = hashMapped(UnsafeRawBufferPointer(rebasing: all[r]))
                guard got == sum else { throw fault("section \(i) (\(name)) checksum mismatch (file is damaged)") }
            }
            listing.append((kind: name, offset: r.lowerBound, size: r.count))
        }
        sections = listing
        for k in [SectionKind.ir, .metadata, .tensorTable, .data] where found[k] == nil {
            throw fault("missing \(k.name) section")
        }
        func section(_ k: SectionKind) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: all[found[k] ?? 0..<0])
        }

        // Metadata, IR, vocab.
        let meta = try MetadataSection.decode(section(.metadata), path: path)
        guard let irText = String(validating: section(.ir), as: UTF8.self) else {
            throw fault("IR section is not valid UTF-8")
        }
        let module: Module
        do { module = try IRParser.parse(irText, file: path) } catch let e as BertError {
            throw fault("IR section: \(e.message)")
        }
        var vocab: [String]? = nil
        if meta.vocab == "inline" {
            guard found[.vocab] != nil else { throw fault("METADATA says the vocab is inline but there is no VOCAB section") }
            guard let text = String(validating: section(.vocab), as: UTF8.self) else {
                throw fault("VOCAB section is not valid UTF-8")
            }
            vocab = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        } else if found[.vocab] != nil {
            throw fault("METADATA says the vocab comes from the base but a VOCAB section is present")
        }
        if module.tensors.contains(where: { $0.storage.needsBase }) && meta.base == nil {
            throw fault("the IR has shared tensors but METADATA references no base model")
        }

        // Tensor table against the IR's declarations and the DATA section.
        let dataRange = found[.data] ?? 0..<0
        let store = WeightStore()
        var encodedTensors: [String: EncodedBlob] = [:]
        var offsets: [String: Int] = [:]
        var byteCounts: [String: Int] = [:]
        var spans: [(Range<Int>, String)] = []
        var r = ByteReader(section(.tensorTable), path: path, region: "TENSOR_TABLE section")
        let n = try r.readCount("tensor count")
        let minEntry = 4 + 1 + 1 + 2 + 8 + 8
        guard n <= r.remaining / minEntry else {
            throw r.fault("tensor count \(n) does not fit in the section (\(r.remaining) bytes)")
        }
        guard n <= module.tensors.count else {
            throw r.fault("\(n) tensor entries but the IR declares only \(module.tensors.count) tensors")
        }
        var decls: [String: TensorDecl] = [:]
        for t in module.tensors { decls[t.name] = t }
        for _ in 0..<n {
            let nameLen = Int(try r.read(UInt32.self, "name length"))
            guard let name = String(validating: try r.take(nameLen, "tensor name"), as: UTF8.self) else {
                throw r.fault("tensor name is not valid UTF-8")
            }
            let shown = oneLine(name)
            let dcode = try r.read(UInt8.self, "dtype")
            let enc = try r.read(UInt8.self, "encoding")
            let ndim = Int(try r.read(UInt16.self, "ndim"))
            guard ndim <= 8 else { throw r.fault("tensor \(shown) has \(ndim) dimensions (at most 8)") }
            var shape: [Int] = []
            var elements = 1
            for _ in 0..<ndim {
                let d = try r.readCount("dimension of \(shown)")
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw r.fault("tensor \(shown) has too many elements") }
                elements = p; shape.append(d)
            }
            let off = try r.readCount("data offset of \(shown)")
            let bytes = try r.readCount("byte count of \(shown)")
            guard let dtype = ArtifactFormat.dtype(code: dcode) else {
                throw r.fault("tensor \(shown) has unknown dtype code \(dcode)")
            }
            guard enc <= ArtifactFormat.encodingDelta, dtype == .f32 else {
                throw r.fault("tensor \(shown) has unsupported encoding \(enc) for \(dtype.rawValue)")
            }
            guard let decl = decls[name] else { throw r.fault("tensor \(shown) is not declared in the IR") }
            guard let expected = ArtifactFormat.encoding(for: decl.storage) else {
                throw r.fault("tensor \(shown) is declared \(decl.storage.rawValue) but has data")
            }
            guard enc == expected else {
                throw r.fault("tensor \(shown) is declared \(decl.storage.rawValue) but its data has encoding \(enc)")
            }
            guard offsets[name] == nil else { throw r.fault("tensor \(shown) has two data entries") }
            guard decl.shape == shape, decl.dtype == dtype else {
                throw r.fault("tensor \(shown) is \(dtype.rawValue)\(shape) but the IR declares \(decl.dtype.rawValue)\(decl.shape)")
            }
            let (want, o) = elements.multipliedReportingOverflow(by: 4)
            guard !o else { throw r.fault("tensor \(shown) has too many elements") }
            if enc == ArtifactFormat.encodingDenseF32 {
                guard bytes == want else { throw r.fault("tensor \(shown) has \(bytes) bytes, its shape needs \(want)") }
            } else {
                // An encoding is never larger than twice the dense values plus its headers.
                guard bytes <= 2 * want + 4096 else { throw r.fault("tensor \(shown) has \(bytes) encoded bytes for \(elements) entries") }
            }
            guard off % ArtifactFormat.dataAlignment == 0 else {
                throw r.fault("tensor \(shown) data offset \(off) is not \(ArtifactFormat.dataAlignment)-byte aligned")
            }
            guard off >= dataRange.lowerBound, off <= dataRange.upperBound, bytes <= dataRange.upperBound - off else {
                throw r.fault("tensor \(shown) data (offset \(off), \(bytes) bytes) lies outside the DATA section")
            }
            if bytes > 0 { spans.append((off..<(off + bytes), shown)) }
            offsets[name] = off
            byteCounts[name] = bytes
            if enc == ArtifactFormat.encodingDenseF32 {
                let ptr = (map.base + off).assumingMemoryBound(to: Float.self)
                store[name] = TensorBuffer(shape: shape, pointer: ptr, owner: map)
            } else {
                let blob = map.bytes(off..<(off + bytes))
                do {
                    // Checked in place: nothing is allocated from the declared shape here (a mask's
                    // bitmap is only built by `encodedTensor(named:)`, once a base tensor vouches for it).
                    try EncodedTensor.validate(encoding: enc, blob: blob, shape: shape, file: path)
                    encodedTensors[name] = EncodedBlob(encoding: enc, bytes: blob, shape: shape)
                } catch let e as BertError {
                    throw fault("tensor \(shown): \(e.message)")
                }
            }
        }
        spans.sort { $0.0.lowerBound < $1.0.lowerBound }
        for (a, b) in zip(spans, spans.dropFirst()) where a.0.overlaps(b.0) {
            throw r.fault("tensor \(b.1) data overlaps tensor \(a.1)")
        }
        guard r.remaining == 0 else { throw r.fault("\(r.remaining) unexpected bytes after the last entry") }
        for t in module.tensors where t.storage != .shared && offsets[t.name] == nil {
            throw fault("\(t.storage.rawValue) tensor \(t.name) has no data in the TENSOR_TABLE section")
        }

        weights = store
        encodedBlobs = encodedTensors
        tensorOffsets = offsets
        tensorByteCounts = byteCounts
        contents = ArtifactContents(module: module, metadata: meta.metadata, vocab: vocab, base: meta.base,
                                    statistics: meta.statistics ?? [])
    }
}

extension Artifact {
    /// The bytes of one encoded tensor in the map, already validated.
    struct EncodedBlob {
        var encoding: UInt8
        var bytes: UnsafeRawBufferPointer
        var shape: [Int]
    }

    /// Names of the tensors stored encoded (mask, csr or delta).
    public var encodedNames: [String] { encodedBlobs.keys.sorted() }

    /// The decoded form of an encoded tensor (nil when `name` is not stored encoded). Masks and deltas
    /// allocate a bitmap of the tensor's entry count: callers with a base decode after checking that
    /// the base holds a tensor of that shape. CSR views point into the map.
    public func encodedTensor(named name: String) throws -> EncodedTensor? {
        guard let b = encodedBlobs[name] else { return nil }
        do {
            return try EncodedTensor.decode(encoding: b.encoding, blob: b.bytes, shape: b.shape, file: path)
        } catch let e as BertError {
            throw BertError(path, "tensor \(oneLine(name)): \(e.message)")
        }
    }
}
