/// Tests of the PyTorch checkpoint reader (BertCheckpoint/PyTorch): torch.save zip archives written by
/// tools/make_torch_fixtures.py (float32, float16, bfloat16, shared storages and transposed views,
/// sharded, deflated, zip64) against the safetensors tiny-encoder, end to end against transformers'
/// references, the refusal of malicious pickles, inflate against python's zlib, and hostile files
/// (truncated, bit-flipped, fuzzed pickles) that must give a one-line BertError naming the file.
import BertArtifact
import BertIR
import BertRuntime
import Foundation
import XCTest

@testable import BertCheckpoint
@testable import BertDriver

final class PyTorchCheckpointTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    static let float32Variants = ["tiny-encoder", "tiny-encoder-views", "tiny-encoder-sharded", "tiny-encoder-deflated"]

    func reference() throws -> RawTensors {
        try SafetensorsSource(path: TestPaths.fixture("models/tiny-encoder/model.safetensors")).readTensors()
    }

    func weightFile(_ variant: String) throws -> String {
        try WeightSources.weightFile(inFolder: TestPaths.fixture("pytorch/" + variant))
    }

    func read(_ path: String) throws -> RawTensors {
        guard let source = WeightSources.source(for: path) else { throw BertError(path, "no source") }
        return try source.readTensors()
    }

    func bits(_ t: TensorBuffer) -> [UInt32] { t.buffer.map { $0.bitPattern } }

    /// float32 -> float16 -> float32 with round-to-nearest-even (Swift's Float16 conversion).
    static func viaHalf(_ x: Float) -> Float { Float(Float16(x)) }

    /// float32 -> bfloat16 -> float32, round-to-nearest-even on the upper 16 bits (no NaNs in the model).
    static func viaBFloat16(_ x: Float) -> Float {
        let b = x.bitPattern
        let rounded = (b &+ 0x7FFF &+ ((b >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    // MARK: - Same tensors as the safetensors model

    func testFloat32VariantsAreBitwiseEqualToSafetensors() throws {
        let ref = try reference()
        XCTAssertEqual(ref.tensors.count, 39)
        for v in Self.float32Variants {
            let path = try weightFile(v)
            let raw = try read(path)
            XCTAssertEqual(raw.format, "pytorch", v)
            XCTAssertEqual(Set(raw.tensors.keys), Set(ref.tensors.keys), v)
            XCTAssertTrue(raw.skipped.isEmpty, v)
            for (name, t) in ref.tensors {
                guard let mine = raw.tensors[name] else { continue }
                XCTAssertEqual(mine.shape, t.shape, "\(v) \(name)")
                XCTAssertTrue(mine.bitwiseEqual(t), "\(v) \(name)")
            }
        }
    }

    func testShardedAndViewsPickTheRightSources() throws {
        XCTAssertTrue(try weightFile("tiny-encoder-sharded").hasSuffix("pytorch_model.bin.index.json"))
        XCTAssertTrue(WeightSources.source(for: try weightFile("tiny-encoder-sharded")) is ShardedPyTorchSource)
        XCTAssertTrue(WeightSources.source(for: try weightFile("tiny-encoder")) is PyTorchSource)
        // The views archive really shares storages: the 10 LayerNorm tensors (embeddings + 2 layers x 2)
        // live in one storage, so 39 - 10 + 1 storages.
        let zip = try ZipArchive(path: try weightFile("tiny-encoder-views"))
        let storages = zip.entries.filter { $0.name.contains("/data/") }
        XCTAssertEqual(storages.count, 30)
        let plain = try ZipArchive(path: try weightFile("tiny-encoder"))
        XCTAssertEqual(plain.entries.filter { $0.name.contains("/data/") }.count, 39)
        // The deflated copy really is deflated.
        let deflated = try ZipArchive(path: try weightFile("tiny-encoder-deflated"))
        XCTAssertTrue(deflated.entries.allSatisfy { $0.method == 8 })
        XCTAssertTrue(plain.entries.allSatisfy { $0.method == 0 })
    }

    func testHalfAndBFloat16AreWidenedRoundedValues() throws {
        let ref = try reference()
        for (v, round) in [("tiny-encoder-f16", Self.viaHalf), ("tiny-encoder-bf16", Self.viaBFloat16)] {
            let raw = try read(try weightFile(v))
            XCTAssertEqual(Set(raw.tensors.keys), Set(ref.tensors.keys), v)
            var changed = 0
            for (name, t) in ref.tensors {
                guard let mine = raw.tensors[name] else { continue }
                XCTAssertEqual(mine.shape, t.shape, "\(v) \(name)")
                let expected = t.buffer.map(round)
                XCTAssertEqual(bits(mine), expected.map { $0.bitPattern }, "\(v) \(name)")
                changed += zip(expected, t.buffer).filter { $0 != $1 }.count
            }
            XCTAssertGreaterThan(changed, 1000, "\(v): rounding must actually change values")
        }
    }

    func testZip64ArchiveReads() throws {
        let path = TestPaths.fixture("pytorch/zip64/embeddings.bin")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // The zip64 end record (PK 6 6) and locator (PK 6 7) are there.
        let sig64: [UInt8] = [0x50, 0x4B, 6, 6], loc64: [UInt8] = [0x50, 0x4B, 6, 7]
        XCTAssertTrue((0..<(bytes.count - 4)).contains { Array(bytes[$0..<($0 + 4)]) == sig64 })
        XCTAssertTrue((0..<(bytes.count - 4)).contains { Array(bytes[$0..<($0 + 4)]) == loc64 })
        let raw = try read(path)
        let ref = try reference()
        XCTAssertEqual(raw.tensors.keys.sorted(), ["embeddings.LayerNorm.bias", "embeddings.LayerNorm.weight",
                                                   "embeddings.position_embeddings.weight",
                                                   "embeddings.token_type_embeddings.weight",
                                                   "embeddings.word_embeddings.weight"])
        for (name, t) in raw.tensors { XCTAssertTrue(t.bitwiseEqual(ref.tensors[name]!), name) }
    }

    // MARK: - End to end

    /// Every float32 variant compiles and runs to transformers' tiny-encoder outputs within 1e-5; the
    /// float16 / bfloat16 ones compile, run and stay close (their weights are rounded).
    func testVariantsCompileAndMatchReferences() throws {
        let cases = try readJSONLines(TestPaths.fixture("reference/tiny-encoder.jsonl"))
        XCTAssertGreaterThanOrEqual(cases.count, 25)
        for v in Self.float32Variants + ["tiny-encoder-f16", "tiny-encoder-bf16"] {
            let model = TestPaths.fixture("pytorch/" + v)
            let loaded = try CheckpointLoader.load(path: model)
            XCTAssertEqual(loaded.metadata.sourceFormat, "pytorch", v)
            let out = tmp + "/\(v).bin"
            _ = try Compiler.compile(model: model, base: nil, output: out)
            let task = try LoadedTask.load(path: out, baseOverride: nil, threads: 2, verify: true)
            let tol: Float = v.hasSuffix("f16") ? 0.2 : 1e-5
            var worst: Float = 0
            for (i, c) in cases.enumerated() {
                let res = try task.engine.run(Batch(rows: [(ints(c["input_ids"]), ints(c["token_type_ids"]))]))
                let hidden = Array(res.values["last_hidden_state"]!.buffer)
                let d = max(maxAbsDiff(hidden, floats(c["last_hidden_state"])),
                            maxAbsDiff(res.row("pooler_output", 0) ?? [], floats(c["pooler_output"])))
                worst = max(worst, d)
                XCTAssertLessThanOrEqual(d, tol, "\(v) case \(i)")
            }
            if tol > 1e-5 { XCTAssertGreaterThan(worst, 1e-6, "\(v): rounded weights change the outputs") }
        }
    }

    // MARK: - Malicious pickles

    func testMaliciousPickleIsRefusedByName() throws {
        let path = TestPaths.fixture("pytorch/malicious/pytorch_model.bin")
        XCTAssertThrowsError(try read(path)) { e in
            XCTAssertEqual(e as? BertError, BertError(path, "refusing to unpickle global 'os.system'"))
        }
        let posix = TestPaths.fixture("pytorch/malicious/posix-system.bin")
        XCTAssertThrowsError(try read(posix)) { e in
            XCTAssertEqual(e as? BertError, BertError(posix, "refusing to unpickle global 'posix.system'"))
        }
        // Through the loader, a folder holding it.
        let dir = tmp + "/evil"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["config.json", "vocab.txt"] {
            try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-encoder/" + f), toPath: dir + "/" + f)
        }
        try FileManager.default.copyItem(atPath: path, toPath: dir + "/pytorch_model.bin")
        XCTAssertThrowsError(try CheckpointLoader.load(path: dir)) { e in
            XCTAssertEqual((e as? BertError)?.message, "refusing to unpickle global 'os.system'")
        }
    }

    /// Globals outside the allow-list are refused by name, whatever opcode names them.
    func testUnpicklerRefusesOtherGlobals() throws {
        func run(_ bytes: [UInt8]) throws -> [(String, TorchTensorRef)] {
            try bytes.withUnsafeBytes { b in
                var u = Unpickler(b, file: "f.bin", what: "archive/data.pkl")
                return try u.stateDict()
            }
        }
        // GLOBAL 'builtins eval'
        let g: [UInt8] = [0x80, 2, 0x7D] + [0x63] + Array("builtins\neval\n".utf8) + [0x2E]
        XCTAssertThrowsError(try run(g)) { XCTAssertEqual($0 as? BertError, BertError("f.bin", "refusing to unpickle global 'builtins.eval'")) }
        // STACK_GLOBAL 'subprocess' 'Popen'
        let sg: [UInt8] = [0x80, 2, 0x8C, 10] + Array("subprocess".utf8) + [0x8C, 5] + Array("Popen".utf8) + [0x93, 0x2E]
        XCTAssertThrowsError(try run(sg)) { XCTAssertEqual($0 as? BertError, BertError("f.bin", "refusing to unpickle global 'subprocess.Popen'")) }
        // An allowed global that is not callable: REDUCE on torch.FloatStorage.
        let r: [UInt8] = [0x80, 2, 0x63] + Array("torch\nFloatStorage\n".utf8) + [0x29, 0x52, 0x2E]
        XCTAssertThrowsError(try run(r)) { XCTAssertEqual(($0 as? BertError)?.file, "f.bin") }
        // An empty dict is a valid (tensor-less) state dict; a list is not a state dict.
        XCTAssertEqual(try run([0x80, 2, 0x7D, 0x2E]).count, 0)
        XCTAssertThrowsError(try run([0x80, 2, 0x5D, 0x2E]))
        // Deep nesting never overflows the stack when released.
        let deep: [UInt8] = [0x80, 2, 0x7D, 0x8C, 1, 0x61, 0x4E] + [UInt8](repeating: 0x85, count: 300_000) + [0x73, 0x2E]
        XCTAssertEqual(try run(deep).count, 0)
    }

    // MARK: - Inflate and CRC-32

    func testCRC32MatchesZlib() {
        XCTAssertEqual(ZipCRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(ZipCRC32.checksum([]), 0)
        XCTAssertEqual(ZipCRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
    }

    func inflate(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try Inflate.inflate($0, limit: limit, file: "x.zip", what: "entry 'e'") }
    }

    func testInflateRoundTripsPythonZlib() throws {
        let dir = TestPaths.fixture("pytorch/inflate") + "/"
        for (stream, original) in [("text", "text"), ("text-fixed", "text"), ("text-stored", "text"),
                                   ("random", "random"), ("runs", "runs")] {
            let packed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + stream + ".deflate")))
            let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + original + ".bin")))
            XCTAssertEqual(try inflate(packed, limit: plain.count), plain, stream)
            // One byte short of the output is an error, never a partial result.
            XCTAssertThrowsError(try inflate(packed, limit: plain.count - 1), stream) { e in
                XCTAssertTrue((e as? BertError)?.message.contains("exceeds the declared size") ?? false, "\(e)")
            }
            // A truncated stream is an error.
            XCTAssertThrowsError(try inflate(Array(packed.prefix(packed.count / 2)), limit: plain.count), stream)
        }
        XCTAssertLessThan(try Data(contentsOf: URL(fileURLWithPath: dir + "runs.deflate")).count, 1000)
        // Stored blocks after a Huffman block (bytes already buffered must be re-read).
        let mixed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "mixed.deflate")))
        let both = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "text.bin")))
            + [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "random.bin")))
        XCTAssertEqual(try inflate(mixed, limit: both.count), both)
    }

    func testInflateRejectsMalformedStreams() {
        func fault(_ bytes: [UInt8], _ text: String, line: UInt = #line) {
            XCTAssertThrowsError(try inflate(bytes, limit: 1000), line: line) { e in
                let be = e as? BertError
                XCTAssertEqual(be?.file, "x.zip", line: line)
                XCTAssertTrue(be?.message.contains(text) ?? false, "\(e)", line: line)
            }
        }
        fault([0x07], "invalid block type 3")
        fault([0x01, 0x05, 0x00, 0x00, 0x00], "complement")           // stored, LEN 5, NLEN 0
        fault([0x03, 0x02, 0x00], "distance 1 is beyond the 0 bytes")   // fixed: match (257, dist 1) first
        fault([], "ends early")
        // A dynamic block whose code-length code is empty (all 19 lengths 0): incomplete.
        fault([0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], "code-length code")
        // Stored empty final block: valid, empty output.
        XCTAssertEqual(try inflate([0x01, 0x00, 0x00, 0xFF, 0xFF], limit: 0), [])
    }

    func testInflateNeverCrashesOnFlippedBits() throws {
        let packed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("pytorch/inflate/text.deflate"))))
        let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("pytorch/inflate/text.bin"))))
        var errors = 0
        for i in stride(from: 0, to: packed.count, by: 7) {
            var b = packed
            b[i] ^= UInt8(1 << (i % 8))
            do {
                let out = try inflate(b, limit: plain.count)
                XCTAssertLessThanOrEqual(out.count, plain.count)
            } catch let e as BertError {
                XCTAssertEqual(e.file, "x.zip")
                errors += 1
            }
        }
        XCTAssertGreaterThan(errors, 0)
    }

    // MARK: - Hostile archives

    func copyBytes(_ variant: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try weightFile(variant))))
    }

    func assertFault(_ bytes: [UInt8], _ label: String, line: UInt = #line) throws {
        let path = tmp + "/pytorch_model.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try read(path), label, line: line) { e in
            guard let be = e as? BertError else { return XCTFail("\(label): not a BertError: \(e)", line: line) }
            XCTAssertEqual(be.file, path, label, line: line)
            XCTAssertFalse(be.description.contains("\n"), label, line: line)
        }
    }

    func testTruncatedArchivesFail() throws {
        for v in ["tiny-encoder", "tiny-encoder-deflated", "tiny-encoder-f16"] {
            let bytes = try copyBytes(v)
            for n in [0, 1, 21, 22, 100, bytes.count / 3, bytes.count / 2, bytes.count - 23, bytes.count - 22, bytes.count - 1] {
                try assertFault(Array(bytes.prefix(n)), "\(v) truncated to \(n)")
            }
        }
        try assertFault([0x80, 0x02, 0x7D, 0x2E], "legacy pickle")
    }

    /// A flipped bit inside any entry's data, or in the directory, is an error naming the file; a flip
    /// elsewhere (timestamps, attributes) may be harmless but then the tensors are unchanged.
    func testBitFlippedArchivesFailOrAreHarmless() throws {
        let ref = try reference()
        for v in ["tiny-encoder", "tiny-encoder-deflated"] {
            let bytes = try copyBytes(v)
            let path = tmp + "/pytorch_model.bin"
            var errors = 0, harmless = 0
            var positions = Array(stride(from: 0, to: bytes.count, by: 1201))
            positions += Array((bytes.count - 600)..<bytes.count).filter { $0 % 7 == 0 }  // the central directory
            for i in positions {
                var b = bytes
                b[i] ^= UInt8(1 << (i % 8))
                try Data(b).write(to: URL(fileURLWithPath: path))
                do {
                    let raw = try read(path)
                    harmless += 1
                    for (name, t) in ref.tensors {
                        XCTAssertTrue(raw.tensors[name]?.bitwiseEqual(t) ?? false, "\(v) flip at \(i): \(name)")
                    }
                } catch let e as BertError {
                    XCTAssertEqual(e.file, path, "\(v) flip at \(i)")
                    XCTAssertFalse(e.description.contains("\n"))
                    errors += 1
                }
            }
            XCTAssertGreaterThan(errors, positions.count / 2, v)
        }
    }

    /// Every single-bit flip of data.pkl (re-zipped with a correct CRC, so the unpickler sees it) is an
    /// error naming the file or a state dict whose tensors still lie inside their storages.
    func testFuzzedPicklesNeverCrash() throws {
        let zip = try ZipArchive(path: try weightFile("tiny-encoder-views"))
        let pkl = zip.entries.first { $0.name.hasSuffix("/data.pkl") }!
        let data = try zip.data(pkl)
        let original = [UInt8](data.bytes)
        var errors = 0
        for i in 0..<original.count {
            var b = original
            b[i] ^= UInt8(1 << (i % 8))
            do {
                let entries = try b.withUnsafeBytes { p -> [(String, TorchTensorRef)] in
                    var u = Unpickler(p, file: "f.bin", what: pkl.name)
                    return try u.stateDict()
                }
                for (name, t) in entries {
                    if let dt = TorchDType(storageType: t.storage.type) { _ = try? TorchView(name: name, tensor: t, dtype: dt, path: "f.bin") }
                }
            } catch let e as BertError {
                XCTAssertEqual(e.file, "f.bin")
                errors += 1
            }
        }
        XCTAssertGreaterThan(errors, original.count / 4)
    }
}

/// Hand-made torch archives: a stored zip writer and a protocol-2 pickle of one tensor, for strides,
/// offsets and storages a real torch.save would not write.
enum TorchArchiveWriter {
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }

    /// A stored (method 0) zip of `entries`, in order.
    static func zip(_ entries: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        for (name, data) in entries {
            let n = Array(name.utf8)
            let crc = Int(ZipCRC32.checksum(data))
            let offset = out.count
            out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
                + le32(data.count) + le32(data.count) + le16(n.count) + le16(0) + n + data
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
                + le32(data.count) + le32(data.count) + le16(n.count) + le16(0) + le16(0) + le16(0) + le16(0)
                + le32(0) + le32(offset) + n
        }
        let cdOffset = out.count
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
            + le32(central.count) + le32(cdOffset) + le16(0)
        return out
    }

    static func str(_ s: String) -> [UInt8] { [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }
    static func int(_ v: Int) -> [UInt8] { [0x4A] + le32(v) }
    static func tuple(_ v: [Int]) -> [UInt8] { [0x28] + v.flatMap(int) + [0x74] }

    /// `{name: _rebuild_tensor_v2(storage(type, key "0", numel), offset, size, stride, False, OrderedDict())}`.
    static func pickle(name: String, storage: String, numel: Int, offset: Int, size: [Int], stride: [Int]) -> [UInt8] {
        [0x80, 2, 0x7D] + str(name) + [0x63] + Array("torch._utils\n_rebuild_tensor_v2\n".utf8)
            + [0x28, 0x28] + str("storage") + [0x63] + Array("torch\n\(storage)\n".utf8) + str("0") + str("cpu") + int(numel)
            + [0x74, 0x51] + int(offset) + tuple(size) + tuple(stride) + [0x89]
            + [0x63] + Array("collections\nOrderedDict\n".utf8) + [0x29, 0x52, 0x74, 0x52, 0x73, 0x2E]
    }

    static func archive(pickle: [UInt8], storage: [UInt8], byteorder: String = "little") -> [UInt8] {
        zip([("archive/data.pkl", pickle), ("archive/byteorder", Array(byteorder.utf8)),
             ("archive/data/0", storage), ("archive/version", Array("3\n".utf8))])
    }
}

final class PyTorchHandMadeArchiveTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func floatBytes(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } } }

    func load(_ bytes: [UInt8]) throws -> RawTensors {
        let path = tmp + "/model.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try PyTorchSource(path: path).readTensors()
    }

    func fault(_ bytes: [UInt8], _ text: String, line: UInt = #line) {
        XCTAssertThrowsError(try load(bytes), line: line) { e in
            let be = e as? BertError
            XCTAssertEqual(be?.file, tmp + "/model.bin", line: line)
            XCTAssertTrue(be?.message.contains(text) ?? false, "\(e)", line: line)
        }
    }

    let storage12: [Float] = (0..<12).map { Float($0) }

    func testOffsetAndStridesAreHonoured() throws {
        let p = TorchArchiveWriter.pickle(name: "w", storage: "FloatStorage", numel: 12, offset: 1, size: [3, 2], stride: [1, 3])
        let raw = try load(TorchArchiveWriter.archive(pickle: p, storage: floatBytes(storage12)))
        XCTAssertEqual(raw.tensors["w"]?.shape, [3, 2])
        XCTAssertEqual(raw.tensors["w"].map { Array($0.buffer) }, [1, 4, 2, 5, 3, 6])
        // Contiguous at an offset; a zero-dimensional tensor; broadcast size-1 dims.
        let q = TorchArchiveWriter.pickle(name: "v", storage: "FloatStorage", numel: 12, offset: 7, size: [5], stride: [1])
        XCTAssertEqual(try load(TorchArchiveWriter.archive(pickle: q, storage: floatBytes(storage12))).tensors["v"].map { Array($0.buffer) },
                       [7, 8, 9, 10, 11])
        let s = TorchArchiveWriter.pickle(name: "s", storage: "FloatStorage", numel: 12, offset: 11, size: [], stride: [])
        XCTAssertEqual(try load(TorchArchiveWriter.archive(pickle: s, storage: floatBytes(storage12))).tensors["s"].map { Array($0.buffer) }, [11])
    }

    func testHalfStorageWithStrides() throws {
        // float16 bits of 1, 2, -0.5, 65504.
        let bits: [UInt16] = [0x3C00, 0x4000, 0xB800, 0x7BFF]
        let bytes = bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let p = TorchArchiveWriter.pickle(name: "h", storage: "HalfStorage", numel: 4, offset: 0, size: [2, 2], stride: [1, 2])
        XCTAssertEqual(try load(TorchArchiveWriter.archive(pickle: p, storage: bytes)).tensors["h"].map { Array($0.buffer) },
                       [1, -0.5, 2, 65504])
    }

    func testIntegerTensorsAreSkippedAndMasksKept() throws {
        let p = TorchArchiveWriter.pickle(name: "a.weight_mask", storage: "ByteStorage", numel: 4, offset: 0, size: [2, 2], stride: [1, 2])
        let raw = try load(TorchArchiveWriter.archive(pickle: p, storage: [1, 0, 0, 7]))
        XCTAssertNil(raw.tensors["a.weight_mask"])
        XCTAssertEqual(raw.skipped["a.weight_mask"], "uint8")
        XCTAssertEqual(raw.integerMasks["a.weight_mask"], IntegerMask(shape: [2, 2], values: [1, 0, 0, 2]))
        let q = TorchArchiveWriter.pickle(name: "ids", storage: "LongStorage", numel: 1, offset: 0, size: [1], stride: [1])
        let r = try load(TorchArchiveWriter.archive(pickle: q, storage: [UInt8](repeating: 0, count: 8)))
        XCTAssertEqual(r.skipped, ["ids": "int64"])
        XCTAssertTrue(r.integerMasks.isEmpty)
    }

    func testHostileViewsAndStoragesAreErrors() {
        let st = floatBytes(storage12)
        func pk(_ numel: Int = 12, offset: Int = 0, size: [Int], stride: [Int], type: String = "FloatStorage") -> [UInt8] {
            TorchArchiveWriter.pickle(name: "w", storage: type, numel: numel, offset: offset, size: size, stride: stride)
        }
        fault(TorchArchiveWriter.archive(pickle: pk(offset: 2, size: [3, 4], stride: [4, 1]), storage: st), "reach element 13")
        fault(TorchArchiveWriter.archive(pickle: pk(size: [3, 4], stride: [5, 1]), storage: st), "reach element")
        fault(TorchArchiveWriter.archive(pickle: pk(size: [3, 4], stride: [4]), storage: st), "do not match")
        fault(TorchArchiveWriter.archive(pickle: pk(size: [3, 4], stride: [-4, 1]), storage: st), "negative")
        fault(TorchArchiveWriter.archive(pickle: pk(offset: -1, size: [2], stride: [1]), storage: st), "negative")
        fault(TorchArchiveWriter.archive(pickle: pk(size: [1_000_000, 1_000_000], stride: [0, 0]), storage: st), "exceed its storage")
        fault(TorchArchiveWriter.archive(pickle: pk(size: [0x4000_0000, 0x4000_0000, 0x4000_0000], stride: [1, 1, 1]), storage: st), "too large")
        fault(TorchArchiveWriter.archive(pickle: pk(13, size: [2], stride: [1]), storage: st), "needs 52 bytes but its entry has 48")
        fault(TorchArchiveWriter.archive(pickle: pk(size: [2], stride: [1]), storage: st, byteorder: "big"), "only 'little'")
        fault(TorchArchiveWriter.zip([("archive/data.pkl", pk(size: [2], stride: [1]))]), "has no entry archive/data/0")
        fault(TorchArchiveWriter.zip([("data.pkl", pk(size: [2], stride: [1]))]), "no <archive>/data.pkl")
        var badCRC = TorchArchiveWriter.archive(pickle: pk(size: [2], stride: [1]), storage: st)
        // Flip a bit of the storage's 5.0 (0x40A00000): the entry's CRC-32 no longer matches.
        let five = floatBytes([5])
        let at = (0..<(badCRC.count - 4)).first { Array(badCRC[$0..<($0 + 4)]) == five }!
        badCRC[at + 3] ^= 0x01
        fault(badCRC, "entry 'archive/data/0': CRC-32 mismatch")
    }
}
