/// Tests of the artifact format: round trip, shared tensors, damaged files (truncation, byte
/// flips), version refusal, consistency checks and atomic writes.
import Foundation
import XCTest
import BertIR
import BertArtifact
import CBertKernels

final class ArtifactTests: XCTestCase {
    // MARK: fixtures built by hand

    static let specialFloats: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234),
                                         Float(bitPattern: 1), .greatestFiniteMagnitude, 3.14159]

    func floats(_ n: Int, seed: UInt32) -> [Float] {
        var s = seed &* 2654435761 | 1
        return (0..<n).map { i in
            if i < Self.specialFloats.count && seed % 2 == 0 { return Self.specialFloats[i] }
            s ^= s << 13; s ^= s >> 17; s ^= s << 5
            return Float(bitPattern: s)
        }
    }

    struct Fixture {
        var contents: ArtifactContents
        var weights: WeightStore
        var values: [String: [Float]]
    }

    func makeFixture(vocabInline: Bool = true, withShared: Bool = true) -> Fixture {
        var tensors = [
            TensorDecl(name: "encoder.weight", shape: [5, 3]),
            TensorDecl(name: "encoder.bias", shape: [5]),
            TensorDecl(name: "head.weight", shape: [33, 17], attributes: [NamedAttribute("note", .string("odd size"))]),
        ]
        if withShared { tensors.append(TensorDecl(name: "embeddings.word", shape: [10, 3], storage: .shared)) }
        let ops = [
            Op(result: "input_ids", kind: .input, attributes: [NamedAttribute("name", .string("input_ids"))],
               type: ValueType(.i32, [.batch, .seq])),
            Op(result: "0", kind: .linear, operands: [.value("input_ids"), .tensor("encoder.weight"), .tensor("encoder.bias")],
               type: ValueType(.f32, [.batch, .seq, .fixed(5)])),
            Op(result: nil, kind: .output, operands: [.value("0")], attributes: [NamedAttribute("name", .string("logits"))]),
        ]
        let module = Module(name: "tiny", tensors: tensors, ops: ops)
        let meta = ModelMetadata(architecture: "BertForSequenceClassification", id2label: ["neg", "pos"],
                                 doLowerCase: false, stripAccents: true, tokenizeChineseChars: false, maxPosition: 128,
                                 pooling: "mean", normalize: true, sourceFormat: "safetensors")
        let base = BaseReference(path: "/models/base dir/ünï", fingerprint: "0123456789abcdef", format: "safetensors")
        let weights = WeightStore()
        var values: [String: [Float]] = [:]
        for (i, t) in tensors.enumerated() where t.storage == .dense {
            let v = floats(t.elementCount, seed: UInt32(i * 2))
            values[t.name] = v
            weights[t.name] = TensorBuffer(shape: t.shape, values: v)
        }
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "héllo", "##x", "日本", " spaced "]
        return Fixture(contents: ArtifactContents(module: module, metadata: meta, vocab: vocabInline ? vocab : nil,
                                                  base: withShared || !vocabInline ? base : nil),
                       weights: weights, values: values)
    }

    var dir = ""
    override func setUpWithError() throws { dir = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func writeFixture(_ f: Fixture, name: String = "task.bin") throws -> String {
        let path = dir + "/" + name
        let n = try ArtifactWriter.write(f.contents, weights: f.weights, to: path)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        XCTAssertEqual(n, size)
        return path
    }

    /// Reads the file's layout independently of the reader: (section table end, [(kind, offset, size)]).
    func layout(_ bytes: [UInt8]) -> (tableEnd: Int, sections: [(kind: UInt32, offset: Int, size: Int)]) {
        let count = Int(le64(bytes, 16)), table = Int(le64(bytes, 24))
        var out: [(UInt32, Int, Int)] = []
        for i in 0..<count {
            let e = table + 32 * i
            out.append((UInt32(truncatingIfNeeded: le64(bytes, e)), Int(le64(bytes, e + 8)), Int(le64(bytes, e + 16))))
        }
        return (table + 32 * count, out.map { (kind: $0.0, offset: $0.1, size: $0.2) })
    }

    func le64(_ b: [UInt8], _ o: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) } }
    func put64(_ b: inout [UInt8], _ o: Int, _ v: UInt64) { for i in 0..<8 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
    func xxh(_ b: ArraySlice<UInt8>) -> UInt64 { Array(b).withUnsafeBytes { bk_hash64($0.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!, $0.count, 0) } }

    /// Recomputes every checksum (sections and header) so that edits reach the structural checks.
    /// Edits that move the table or a section outside the file are left as they are.
    func reseal(_ b: inout [UInt8]) {
        let count = le64(b, 16), table64 = le64(b, 24)
        guard count <= 64, table64 <= UInt64(b.count), table64 + 32 * count <= UInt64(b.count) else { return }
        let l = layout(b)
        let table = Int(table64)
        for (i, s) in l.sections.enumerated() where s.offset >= 0 && s.size >= 0 && s.offset <= b.count && s.size <= b.count - s.offset {
            put64(&b, table + 32 * i + 24, xxh(b[s.offset..<(s.offset + s.size)]))
        }
        put64(&b, 40, xxh(b[0..<40] + b[table..<l.tableEnd]))
    }

    func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
    func save(_ b: [UInt8], _ name: String) throws -> String {
        let p = dir + "/" + name
        try Data(b).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Loading must throw a BertError naming the file (and must not crash).
    func assertRefused(_ path: String, verify: Bool = true, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Artifact(path: path, verify: verify)
            XCTFail("\(context): accepted", file: file, line: line)
        } catch let e as BertError {
            XCTAssertEqual(e.file, path, "\(context): \(e)", file: file, line: line)
            XCTAssertFalse(e.message.isEmpty, file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), "\(context): multi-line error \(e)", file: file, line: line)
        } catch {
            XCTFail("\(context): not a BertError: \(error)", file: file, line: line)
        }
    }

    // MARK: round trip

    func testRoundTrip() throws {
        let f = makeFixture()
        let path = try writeFixture(f)
        let a = try Artifact(path: path)
        XCTAssertEqual(a.version, 1)
        XCTAssertEqual(a.contents.module, f.contents.module)
        XCTAssertEqual(a.contents.metadata, f.contents.metadata)
        XCTAssertEqual(a.contents.vocab, f.contents.vocab)
        XCTAssertEqual(a.contents.base, f.contents.base)
        let raw = try bytes(path)
        XCTAssertEqual(a.fileSize, raw.count)
        XCTAssertEqual(Array(raw[0..<8]), Array("BERTCART".utf8))
        XCTAssertEqual(Array(raw[8..<16]), [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(le64(raw, 32), UInt64(raw.count))
        XCTAssertEqual(a.sections.map(\.kind), ["IR", "METADATA", "VOCAB", "TENSOR_TABLE", "DATA"])
        XCTAssertEqual((a.sections.last?.offset ?? 1) % 64, 0)
        // The IR section holds the printed module as text.
        let ir = a.sections[0]
        XCTAssertEqual(String(decoding: raw[ir.offset..<(ir.offset + ir.size)], as: UTF8.self),
                       IRPrinter.print(f.contents.module))
        // METADATA is JSON with the documented keys.
        let m = a.sections[1]
        let json = try JSONSerialization.jsonObject(with: Data(raw[m.offset..<(m.offset + m.size)])) as? [String: Any]
        XCTAssertEqual(json?["vocab"] as? String, "inline")
        XCTAssertEqual((json?["base"] as? [String: Any])?["fingerprint"] as? String, "0123456789abcdef")
        XCTAssertEqual((json?["metadata"] as? [String: Any])?["architecture"] as? String, "BertForSequenceClassification")

        XCTAssertEqual(Set(a.weights.names), ["encoder.weight", "encoder.bias", "head.weight"])
        XCTAssertNil(a.weights["embeddings.word"], "shared tensors have no data")
        let mapStart = UInt(bitPattern: a.file.base), mapEnd = mapStart + UInt(a.file.size)
        for (name, expected) in f.values {
            let t = try XCTUnwrap(a.weights[name])
            XCTAssertEqual(t.shape, f.contents.module.tensor(named: name)?.shape)
            XCTAssertEqual(t.buffer.map(\.bitPattern), expected.map(\.bitPattern), name)
            let off = try XCTUnwrap(a.tensorOffsets[name])
            XCTAssertEqual(off % 64, 0, name)
            let p = UInt(bitPattern: t.pointer)
            XCTAssertEqual(p, mapStart + UInt(off), "\(name) points into the map at its offset")
            XCTAssertTrue(p >= mapStart && p + UInt(t.byteCount) <= mapEnd)
            XCTAssertTrue(t.owner === a.file)
            // And the raw file bytes at that offset are the little-endian floats.
            let fileFloats = (0..<expected.count).map { i in
                UInt32(raw[off + 4 * i]) | UInt32(raw[off + 4 * i + 1]) << 8 | UInt32(raw[off + 4 * i + 2]) << 16 | UInt32(raw[off + 4 * i + 3]) << 24
            }
            XCTAssertEqual(fileFloats, expected.map(\.bitPattern), name)
        }
        // Every section checksum is xxHash64 of its bytes.
        let l = layout(raw)
        for (i, s) in l.sections.enumerated() {
            XCTAssertEqual(le64(raw, 64 + 32 * i + 24), xxh(raw[s.offset..<(s.offset + s.size)]))
        }
    }

    func testVocabFromBaseAndAllShared() throws {
        var f = makeFixture(vocabInline: false)
        let path = try writeFixture(f)
        let a = try Artifact(path: path)
        XCTAssertNil(a.contents.vocab)
        XCTAssertFalse(a.sections.map(\.kind).contains("VOCAB"))
        XCTAssertEqual(a.contents.base, f.contents.base)

        // A module whose tensors are all shared has an empty DATA section.
        for i in f.contents.module.tensors.indices { f.contents.module.tensors[i].storage = .shared }
        let p2 = try ArtifactWriter.write(f.contents, weights: WeightStore(), to: dir + "/shared.bin")
        XCTAssertGreaterThan(p2, 64)
        let b = try Artifact(path: dir + "/shared.bin")
        XCTAssertTrue(b.weights.names.isEmpty)
        XCTAssertEqual(b.sections.last?.kind, "DATA")
        XCTAssertEqual(b.sections.last?.size, 0)
        XCTAssertEqual(b.contents.module, f.contents.module)
    }

    func testWriterRejectsBadInputsAndLeavesNothing() throws {
        var f = makeFixture()
        let w = WeightStore()
        w["encoder.weight"] = f.weights["encoder.weight"]
        XCTAssertThrowsError(try ArtifactWriter.write(f.contents, weights: w, to: dir + "/a.bin"))
        w["encoder.bias"] = TensorBuffer(shape: [4], values: [1, 2, 3, 4])  // wrong shape
        w["head.weight"] = f.weights["head.weight"]
        XCTAssertThrowsError(try ArtifactWriter.write(f.contents, weights: w, to: dir + "/a.bin")) { e in
            XCTAssertTrue("\(e)".contains("encoder.bias"), "\(e)")
        }
        f.contents.base = nil  // shared tensor without a base
        XCTAssertThrowsError(try ArtifactWriter.write(f.contents, weights: f.weights, to: dir + "/a.bin"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    // MARK: damaged files

    func testUnknownVersionRefused() throws {
        var b = try bytes(try writeFixture(makeFixture()))
        b[8] = 7
        let p = try save(b, "v7.bin")
        XCTAssertThrowsError(try Artifact(path: p)) { e in
            XCTAssertEqual(e as? BertError, BertError(p, "artifact version 7 is not supported (this bertc reads 1)"))
            XCTAssertEqual("\(e)", "\(p): artifact version 7 is not supported (this bertc reads 1)")
        }
        b[8] = 1; b[0] = UInt8(ascii: "X")
        assertRefused(try save(b, "magic.bin"), "bad magic")
    }

    func testTruncatedFilesRefused() throws {
        let b = try bytes(try writeFixture(makeFixture()))
        let tableEnd = layout(b).tableEnd
        var cuts = Set(0...(tableEnd + 8))
        for c in stride(from: tableEnd, to: b.count, by: 7) { cuts.insert(c) }
        for c in [b.count - 1, b.count - 4, b.count - 64] { cuts.insert(c) }
        for s in layout(b).sections { cuts.insert(s.offset); cuts.insert(s.offset + 1); cuts.insert(s.offset + s.size - 1) }
        let p = dir + "/cut.bin"
        for c in cuts.sorted() where c < b.count {
            try Data(b[0..<c]).write(to: URL(fileURLWithPath: p))
            assertRefused(p, "cut at \(c)")
            assertRefused(p, verify: false, "cut at \(c) (no verify)")
        }
    }

    func testHeaderAndTableByteFlipsRefused() throws {
        let b = try bytes(try writeFixture(makeFixture()))
        let tableEnd = layout(b).tableEnd
        let p = dir + "/flip.bin"
        for i in 0..<tableEnd {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var c = b
                c[i] ^= mask
                try Data(c).write(to: URL(fileURLWithPath: p))
                assertRefused(p, verify: false, "flip \(mask) at \(i)")
            }
        }
    }

    func testSectionByteFlipsCaughtByChecksums() throws {
        let b = try bytes(try writeFixture(makeFixture()))
        let l = layout(b)
        let p = dir + "/flip.bin"
        for s in l.sections {
            let step = s.kind == 5 ? 13 : 3
            var idx = Array(stride(from: s.offset, to: s.offset + s.size, by: step))
            if s.size > 0 { idx.append(s.offset + s.size - 1) }
            for i in idx {
                var c = b
                c[i] ^= 0x10
                try Data(c).write(to: URL(fileURLWithPath: p))
                assertRefused(p, verify: true, "flip at \(i) in section \(s.kind)")
                // Without checksums the file may load or be refused, but never crash.
                do { _ = try Artifact(path: p, verify: false) } catch let e as BertError {
                    XCTAssertEqual(e.file, p)
                }
            }
        }
    }

    /// Damage that survives the checksums (resealed) must still be caught by the structural checks.
    func testStructuralChecksAfterReseal() throws {
        let good = try bytes(try writeFixture(makeFixture()))
        let l = layout(good)
        let tableSec = try XCTUnwrap(l.sections.first { $0.kind == 4 })
        let dataSec = try XCTUnwrap(l.sections.first { $0.kind == 5 })
        // First entry: u32 name_len, name, u8, u8, u16 ndim, dims, u64 offset, u64 bytes.
        let e0 = tableSec.offset + 8
        let nameLen = Int(good[e0]) | Int(good[e0 + 1]) << 8
        let ndim = Int(good[e0 + 4 + nameLen + 2]) | Int(good[e0 + 4 + nameLen + 3]) << 8
        let offField = e0 + 4 + nameLen + 4 + 8 * ndim

        func check(_ name: String, _ expect: String, _ edit: (inout [UInt8]) -> Void) throws {
            var c = good
            edit(&c)
            reseal(&c)
            let path = try save(c, name + ".bin")
            assertRefused(path, name)
            XCTAssertThrowsError(try Artifact(path: path)) { e in
                XCTAssertTrue("\(e)".contains(expect), "\(name): \(e)")
            }
        }
        try check("unaligned", "not 64-byte aligned") { put64(&$0, offField, le64($0, offField) + 4) }
        try check("outside-data", "outside the DATA section") { put64(&$0, offField, UInt64((dataSec.offset + dataSec.size + 127) / 64 * 64)) }
        try check("huge-offset", "out of range") { put64(&$0, offField, UInt64.max - 63) }
        try check("bytecount", "its shape needs 60") { put64(&$0, offField + 8, le64($0, offField + 8) + 4) }
        try check("huge-count", "tensor count") { put64(&$0, tableSec.offset, UInt64.max) }
        try check("dim", "but the IR declares f32[5, 3]") { put64(&$0, e0 + 4 + nameLen + 4, le64($0, e0 + 4 + nameLen + 4) + 1) }
        try check("encoding", "is declared dense but its data has encoding 3") { $0[e0 + 4 + nameLen + 1] = 3 }
        try check("encoding-unknown", "unsupported encoding 9") { $0[e0 + 4 + nameLen + 1] = 9 }
        try check("dtype", "unknown dtype code 9") { $0[e0 + 4 + nameLen] = 9 }
        try check("name-len", "truncated reading tensor name") { $0[e0 + 3] = 0x7F }
        try check("overlap-sections", "overlaps the IR section") { put64(&$0, 64 + 8, UInt64(tableSec.offset)) }   // IR moved onto the table
        try check("section-outside", "lies outside the file") { put64(&$0, 64 + 16, UInt64(good.count)) }
        try check("section-count", "section count 1000000") { put64(&$0, 16, 1_000_000) }
        try check("table-offset", "section table") { put64(&$0, 24, UInt64.max - 8) }
        try check("reserved", "reserved header bytes") { $0[50] = 1 }
        try check("flags", "unknown header flags") { $0[12] = 1 }
        try check("duplicate-offset", "data overlaps tensor encoder.weight") {   // second tensor's data at the first tensor's offset
            let second = offField + 16
            let nl = Int($0[second]) | Int($0[second + 1]) << 8
            let nd = Int($0[second + 4 + nl + 2])
            put64(&$0, second + 4 + nl + 4 + 8 * nd, le64($0, offField))
        }
        // The IR declares a tensor shared that the table gives data for.
        try check("shared-with-data", "encoder.bias is declared shared but has data") { c in
            let ir = l.sections[0]
            let text = String(decoding: c[ir.offset..<(ir.offset + ir.size)], as: UTF8.self)
            let edited = text.replacingOccurrences(of: "tensor @encoder.bias : f32[5] {storage = dense, compute",
                                                   with: "tensor @encoder.bias : f32[5] {storage = shared,compute")
            XCTAssertNotEqual(edited, text)
            XCTAssertEqual(edited.utf8.count, text.utf8.count)
            c.replaceSubrange(ir.offset..<(ir.offset + ir.size), with: Array(edited.utf8))
        }
        // Storage kinds version 1 cannot hold are refused by the reader.
        try check("mask-storage", "is declared mask but its data has encoding 0") { c in
            let ir = l.sections[0]
            let text = String(decoding: c[ir.offset..<(ir.offset + ir.size)], as: UTF8.self)
            let edited = text.replacingOccurrences(of: "tensor @encoder.bias : f32[5] {storage = dense, compute",
                                                   with: "tensor @encoder.bias : f32[5] {storage = mask , compute")
            XCTAssertNotEqual(edited, text)
            XCTAssertEqual(edited.utf8.count, text.utf8.count)
            c.replaceSubrange(ir.offset..<(ir.offset + ir.size), with: Array(edited.utf8))
        }
        // Invalid UTF-8 in the METADATA section.
        try check("metadata-utf8", "not valid UTF-8") { $0[l.sections[1].offset + 2] = 0xFF }
    }

    // MARK: atomic writes

    func testWriteIntoMissingFolderFailsAndLeavesNothing() throws {
        let missing = dir + "/no/such/folder/task.bin"
        XCTAssertThrowsError(try ArtifactWriter.write(makeFixture().contents, weights: makeFixture().weights, to: missing)) { e in
            XCTAssertEqual((e as? BertError)?.file, missing)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testFailedBodyLeavesNoFileAndKeepsOldOne() throws {
        struct Boom: Error {}
        let p = dir + "/out.txt"
        XCTAssertThrowsError(try AtomicFile.write(to: p) { out in
            try out.write("partial")
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])

        // An existing file is left untouched by a failed write and replaced by a good one.
        let n = try AtomicFile.write(to: p) { out in
            try out.write("hello ")
            try out.writeLE(UInt32(0x0A0B0C0D))
            try out.pad(to: 16)
        }
        XCTAssertEqual(n, 16)
        XCTAssertEqual(try bytes(p), Array("hello ".utf8) + [0x0D, 0x0C, 0x0B, 0x0A] + [UInt8](repeating: 0, count: 6))
        XCTAssertThrowsError(try AtomicFile.write(to: p) { out in try out.write("other"); throw Boom() })
        XCTAssertEqual(try bytes(p).count, 16)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.txt"])
    }

    func testLargeWritesAndPatch() throws {
        let p = dir + "/big.bin"
        let big = floats(300_000, seed: 7)   // > 256 KiB: bypasses the buffer
        try AtomicFile.write(to: p) { out in
            try out.write([1, 2, 3])
            try big.withUnsafeBytes { try out.write($0) }
            try out.write([9])
            try out.patch([7, 7], at: 1)
        }
        let b = try bytes(p)
        XCTAssertEqual(b.count, 3 + big.count * 4 + 1)
        XCTAssertEqual(Array(b[0..<3]), [1, 7, 7])
        XCTAssertEqual(b.last, 9)
        XCTAssertEqual(Array(b[3..<(3 + 4 * big.count)]), big.withUnsafeBytes { Array($0) })
    }

    // MARK: base fingerprint

    func testBaseFingerprint() throws {
        let f = makeFixture()
        let fp = BaseFingerprint.compute(f.weights)
        XCTAssertEqual(fp.count, 16)
        XCTAssertTrue(fp.allSatisfy { "0123456789abcdef".contains($0) })
        // Independent chain: names sorted, each: name bytes, (u64 ndim, u64 dims), float bytes.
        var h: UInt64 = 0
        for name in f.values.keys.sorted() {
            let v = f.values[name]!, shape = f.contents.module.tensor(named: name)!.shape
            h = Array(name.utf8).withUnsafeBytes { bk_hash64($0.baseAddress, $0.count, h) }
            h = ([UInt64(shape.count)] + shape.map { UInt64($0) }).withUnsafeBytes { bk_hash64($0.baseAddress, $0.count, h) }
            h = v.withUnsafeBytes { bk_hash64($0.baseAddress, $0.count, h) }
        }
        XCTAssertEqual(fp, String(format: "%016llx", h))
        // Insertion order does not matter; one changed bit does.
        let w2 = WeightStore()
        for name in f.weights.names.reversed() { w2[name] = f.weights[name] }
        XCTAssertEqual(BaseFingerprint.compute(w2), fp)
        var v = f.values["encoder.bias"]!
        v[2] = Float(bitPattern: v[2].bitPattern ^ 1)
        w2["encoder.bias"] = TensorBuffer(shape: [5], values: v)
        XCTAssertNotEqual(BaseFingerprint.compute(w2), fp)
        w2["encoder.bias"] = TensorBuffer(shape: [1, 5], values: f.values["encoder.bias"]!)
        XCTAssertNotEqual(BaseFingerprint.compute(w2), fp)
        XCTAssertEqual(BaseFingerprint.compute(WeightStore()), "0000000000000000")
    }

    func testRealArtifactLoadsAgainstFileBytes() throws {
        // Reading twice gives independent maps with identical contents.
        let path = try writeFixture(makeFixture())
        let a = try Artifact(path: path), b = try Artifact(path: path, verify: false)
        XCTAssertEqual(a.contents.module, b.contents.module)
        XCTAssertEqual(a.sections.map(\.offset), b.sections.map(\.offset))
        for n in a.weights.names { XCTAssertTrue(a.weights[n]!.bitwiseEqual(b.weights[n]!)) }
        assertRefused(dir + "/absent.bin", "missing file")
        assertRefused(dir, "a folder")
    }
}
