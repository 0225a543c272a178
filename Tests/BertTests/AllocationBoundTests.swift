import BertIR
import Foundation
import XCTest

@testable import BertArtifact
@testable import BertCheckpoint

/// Hostile headers cannot make bertc allocate from a declared count: each crafted file (built here,
/// byte by byte) declares sizes far beyond what it holds, and `bertc dump` (or `bertrun --verify`)
/// must answer with one line `tool: error: FILE: fault` naming the file, while its peak resident
/// memory stays within the measured start-up footprint plus the file's size plus `slack`.
/// The tools run under a 1 GiB address-space limit, so a runaway allocation fails fast (and would
/// show as a crash, not as a one-line error).
final class AllocationBoundTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    static let slack = 16 << 20
    /// Peak RSS of `bertc dump` refusing a 1-byte weight file: the tool's own footprint.
    var baseline: Int?

    func baselineRSS() throws -> Int {
        if let b = baseline { return b }
        let dir = try modelFolder("baseline", weights: [0x7B], name: "model.safetensors")
        let r = try runMeasured("bertc", ["dump", dir])
        XCTAssertEqual(r.status, 1, r.err)
        baseline = r.maxRSSBytes
        return r.maxRSSBytes
    }

    /// A folder with tiny-encoder's (or `from`'s) side files and `weights` written as `name`.
    func modelFolder(_ label: String, weights: [UInt8], name: String, from: String = "models/tiny-encoder",
                     config: String = "config.json") throws -> String {
        let dir = tmp + "/" + label
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in [config, "vocab.txt"] {
            try FileManager.default.copyItem(atPath: TestPaths.fixture(from + "/" + f), toPath: dir + "/" + f)
        }
        try Data(weights).write(to: URL(fileURLWithPath: dir + "/" + name))
        return dir
    }

    /// Runs the tool and checks: exit 1, one error line naming `file` and containing `fault`, and
    /// peak memory within the baseline + the bytes of `file` + slack.
    func assertBounded(_ args: [String], tool: String = "bertc", file: String, fault: String,
                       line: UInt = #line) throws {
        let base = try baselineRSS()
        let r = try runMeasured(tool, args)
        XCTAssertEqual(r.status, 1, "signal \(r.signal): \(r.err)", line: line)
        XCTAssertEqual(r.errLines.count, 1, r.err, line: line)
        XCTAssertTrue(r.err.hasPrefix("\(tool): error: \(file): "), r.err, line: line)
        XCTAssertTrue(r.err.contains(fault), "'\(r.err)' lacks '\(fault)'", line: line)
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        XCTAssertLessThanOrEqual(r.maxRSSBytes, base + size + Self.slack,
                                 "peak RSS \(r.maxRSSBytes >> 20) MiB, baseline \(base >> 20) MiB, file \(size) bytes", line: line)
    }

    // MARK: safetensors

    func testSafetensorsHeadersDeclaringTooMuch() throws {
        func st(_ header: String, data: Int = 8) -> [UInt8] {
            let h = Array(header.utf8)
            return HostileFiles.le64(UInt64(h.count)) + h + [UInt8](repeating: 0, count: data)
        }
        let cases: [(String, [UInt8], String)] = [
            ("header-length", HostileFiles.le64(1 << 62) + Array("{}".utf8), "header length 4611686018427387904 exceeds file size"),
            ("huge-shape", st(#"{"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,8]}}"#), "is too large"),
            ("huge-shape-fits-int", st(#"{"w":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,8]}}"#), "needs 17179869184 bytes but data_offsets span 8"),
            ("offsets-past-file", st(#"{"w":{"dtype":"F32","shape":[262144],"data_offsets":[0,1099511627776]}}"#), "exceed data size 8"),
            ("overlap", st(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#), "overlaps"),
        ]
        for (label, bytes, fault) in cases {
            let dir = try modelFolder(label, weights: bytes, name: "model.safetensors")
            try assertBounded(["dump", dir], file: dir + "/model.safetensors", fault: fault)
        }
    }

    // MARK: TensorFlow

    func tfFolder(_ label: String, index: [UInt8], shard: [UInt8]) throws -> String {
        let dir = try modelFolder(label, weights: index, name: "model.ckpt.index", from: "tf/tiny-classifier",
                                  config: "bert_config.json")
        try Data(shard).write(to: URL(fileURLWithPath: dir + "/model.ckpt.data-00000-of-00001"))
        return dir
    }

    func testTensorFlowIndexDeclaringTooMuch() throws {
        typealias H = HostileFiles
        // A tensor of 2^38 bytes at offset 2^50 of a 16-byte shard.
        let far = H.table([H.block([(0, [], H.bundleHeader()),
                                    (0, Array("w".utf8), H.bundleEntry(dtype: 1, shape: [1 << 36], offset: 1 << 50, size: 1 << 38, crc: 0))])])
        var dir = try tfFolder("far", index: far, shard: [UInt8](repeating: 0, count: 16))
        try assertBounded(["dump", dir + "/model.ckpt.index"], file: dir + "/model.ckpt.data-00000-of-00001",
                          fault: "tensor 'w' at offset 1125899906842624, size 274877906944 runs past the end of the file (16 bytes)")
        // The footer's index handle: a block of 2^40 bytes.
        let handle = H.table([H.block([(0, [], H.bundleHeader())])], indexHandle: (8, 1 << 40))
        dir = try tfFolder("handle", index: handle, shard: [])
        try assertBounded(["dump", dir + "/model.ckpt.index"], file: dir + "/model.ckpt.index", fault: "lies outside the file")
        // Prefix compression: a 60000-byte key, then 20000 entries of 6 bytes that each share the whole
        // previous key and add a byte (1.2 GB of keys if expanded).
        var entries: [(shared: Int, suffix: [UInt8], value: [UInt8])] = [(0, [], H.bundleHeader()),
                                                                         (0, [UInt8](repeating: 0x61, count: 60_000), [])]
        for i in 0..<20_000 { entries.append((60_000 + i, [0x61], [])) }
        dir = try tfFolder("keys", index: H.table([H.block(entries)]), shard: [])
        try assertBounded(["dump", dir + "/model.ckpt.index"], file: dir + "/model.ckpt.index",
                          fault: "keys expand to more than 16 bytes per byte of the file")
        // 64 bfloat16 tensors aliasing the same 1 MiB of the shard (128 MiB once widened).
        let shard = [UInt8](repeating: 0x3F, count: 1 << 20)
        var aliased: [(shared: Int, suffix: [UInt8], value: [UInt8])] = [(0, [], H.bundleHeader())]
        for i in 0..<64 {
            aliased.append((0, Array(String(format: "t%02d", i).utf8),
                            H.bundleEntry(dtype: 14, shape: [1 << 19], offset: 0, size: 1 << 20, crc: H.crc32c(shard))))
        }
        dir = try tfFolder("aliased", index: H.table([H.block(aliased)]), shard: shard)
        try assertBounded(["dump", dir + "/model.ckpt.index"], file: dir + "/model.ckpt.index", fault: "tensor 't01' at offset 0 overlaps tensor 't00'")
    }

    // MARK: PyTorch zip + pickle

    func testZipAndPickleDeclaringTooMuch() throws {
        let st = [UInt8](repeating: 0, count: 48)
        let pk = TorchArchiveWriter.pickle(name: "w", storage: "FloatStorage", numel: 12, offset: 0, size: [12], stride: [1])
        let good = TorchArchiveWriter.archive(pickle: pk, storage: st)
        let eocd = good.count - 22
        let cd = Int(good[eocd + 16]) | Int(good[eocd + 17]) << 8
        func patched(_ edits: [(Int, [UInt8])]) -> [UInt8] {
            var b = good
            for (at, bytes) in edits { b.replaceSubrange(at..<(at + bytes.count), with: bytes) }
            return b
        }
        /// `good` with a zip64 end record and locator before its end record (whose count then says "see zip64").
        func zip64(entries: UInt64) -> [UInt8] {
            typealias H = HostileFiles
            let cdEnd = eocd
            let record = H.le32(0x0606_4B50) + H.le64(44) + [45, 0, 45, 0] + H.le32(0) + H.le32(0)
                + H.le64(entries) + H.le64(entries) + H.le64(UInt64(cdEnd - cd)) + H.le64(UInt64(cd))
            let locator = H.le32(0x0706_4B50) + H.le32(0) + H.le64(UInt64(cdEnd)) + H.le32(1)
            var end = Array(good[eocd...])
            end.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0xFF])
            return Array(good[..<cdEnd]) + record + locator + end
        }
        let cases: [(String, [UInt8], String)] = [
            // The first entry (data.pkl) deflated, declaring 4 GiB.
            ("deflate", patched([(cd + 10, [8, 0]), (cd + 24, HostileFiles.le32(0xFFFF_FFF0))]), "cannot hold 4294967280 bytes"),
            // 65534 entries in a directory of four.
            ("count", patched([(eocd + 8, [0xFE, 0xFF]), (eocd + 10, [0xFE, 0xFF])]), "cannot hold 65534 entries"),
            // The first entry's data reaching over the others (sizes grown to the whole file).
            ("overlap", patched([(cd + 20, HostileFiles.le32(UInt32(cd - 40))), (cd + 24, HostileFiles.le32(UInt32(cd - 40)))]),
             "overlaps entry 'archive/data.pkl'"),
            // A zip64 end record declaring 2^40 entries.
            ("zip64", zip64(entries: 1 << 40), "zip64 end record counts exceed the file size"),
            // A storage of 2^31 - 1 floats backed by 48 bytes.
            ("numel", TorchArchiveWriter.archive(pickle: TorchArchiveWriter.pickle(name: "w", storage: "FloatStorage", numel: 0x7FFF_FFFF,
                                                                                   offset: 0, size: [12], stride: [1]), storage: st),
             "needs 8589934588 bytes but its entry has 48"),
        ]
        for (label, bytes, fault) in cases {
            let dir = try modelFolder(label, weights: bytes, name: "pytorch_model.bin")
            try assertBounded(["dump", dir], file: dir + "/pytorch_model.bin", fault: fault)
        }
    }

    // MARK: config and vocabulary

    func testConfigAndVocabularyCountsWaitForTheTensors() throws {
        // num_labels 2^24 without id2label: no label names are made before the classifier weight refutes it.
        let dir = try modelFolder("labels", weights: [], name: "unused", from: "models/tiny-classifier")
        try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-classifier/model.safetensors"),
                                         toPath: dir + "/model.safetensors")
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
        cfg["id2label"] = nil
        cfg["label2id"] = nil
        cfg["num_labels"] = 1 << 24
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try assertBounded(["dump", dir], file: dir + "/model.safetensors", fault: "tensor 'classifier.weight' has shape [3, 48], expected [16777216, 48]")
        // A vocabulary of 4 million empty lines for a vocab_size of 483: refused on its line count.
        let v = try modelFolder("vocab", weights: [], name: "unused")
        try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-encoder/model.safetensors"), toPath: v + "/model.safetensors")
        try Data(repeating: 0x0A, count: 4 << 20).write(to: URL(fileURLWithPath: v + "/vocab.txt"))
        try assertBounded(["dump", v], file: v + "/vocab.txt", fault: "4194304 tokens exceed vocab_size 483")
    }

    // MARK: artifacts

    func testArtifactTablesDeclaringTooMuch() throws {
        typealias H = HostileFiles
        let ir = Array(IRPrinter.print(Module(name: "m", tensors: [TensorDecl(name: "w", shape: [2])])).utf8)
        let data = H.dataOffset(count: 5)
        func art(count: UInt64) throws -> [UInt8] {
            H.artifact([(.data, [UInt8](repeating: 0, count: 8)), (.ir, ir), (.metadata, try H.metadata(base: nil)),
                        (.tensorTable, H.tensorTable(count: count, name: "w", encoding: 0, shape: [2], offset: data, bytes: 8)),
                        (.vocab, Array("[PAD]\n[UNK]".utf8))])
        }
        // Sanity: the honest file loads.
        let ok = tmp + "/ok.bin"
        try Data(try art(count: 1)).write(to: URL(fileURLWithPath: ok))
        XCTAssertNoThrow(try Artifact(path: ok))

        var cases: [(String, [UInt8], String)] = [("tensors", try art(count: 1 << 40), "tensor count 1099511627776 does not fit")]
        var big = try art(count: 1)
        H.patchTable(&big, entry: 1, field: 16, 1 << 40)  // the IR section's size
        cases.append(("section", big, "size 1099511627776 lies outside the file"))
        var many = try art(count: 1)
        many.replaceSubrange(16..<24, with: H.le64(1 << 40))
        cases.append(("sections", many, "section count 1099511627776 is out of range"))
        for (label, bytes, fault) in cases {
            let path = tmp + "/\(label).bin"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try assertBounded(["dump", path], file: path, fault: fault)
        }
    }

    /// A mask over 2^40 entries coded in 9 bytes (Golomb, nothing zeroed): loading validates it in
    /// place; the bitmap would only be built against a base tensor of that size, which is refused.
    func testMaskEncodingDeclaringTooManyEntries() throws {
        typealias H = HostileFiles
        let basePath = TestPaths.fixture("models/tiny-encoder")
        let base = try CheckpointLoader.load(path: basePath)
        let ref = BaseReference(path: basePath, fingerprint: BaseFingerprint.compute(base.weights), format: "safetensors")
        let name = "encoder.layer.0.attention.self.query.weight"
        let n = 1 << 40
        let ir = Array(IRPrinter.print(Module(name: "m", tensors: [TensorDecl(name: name, shape: [1 << 20, 1 << 20], storage: .mask)])).utf8)
        let mask: [UInt8] = [1] + H.varint(UInt64(n)) + [0, 1]
        let bytes = H.artifact([(.data, mask), (.ir, ir), (.metadata, try H.metadata(base: ref)),
                                (.tensorTable, H.tensorTable(count: 1, name: name, encoding: 1, shape: [1 << 20, 1 << 20],
                                                             offset: H.dataOffset(count: 4), bytes: mask.count))])
        let path = tmp + "/mask.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let dump = try runMeasured("bertc", ["dump", path])
        XCTAssertEqual(dump.status, 0, dump.err)
        XCTAssertLessThanOrEqual(dump.maxRSSBytes, try baselineRSS() + Self.slack)
        try assertBounded(["--verify", path], tool: "bertrun", file: path,
                          fault: "tensor @\(name) is [1048576, 1048576] but the base's is [32, 32]")
    }
}
