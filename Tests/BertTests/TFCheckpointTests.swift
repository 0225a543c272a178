/// Tests of the TensorFlow checkpoint reader (Sources/BertCheckpoint/TensorFlow) against
/// fixtures/tf/tiny-classifier, written by tensorflow 2.21's tf.compat.v1.train.Saver
/// (tools/make_tf_fixture.py) from fixtures/models/tiny-classifier: the same IR and weights as the
/// safetensors original, the same logits as transformers, every path form, CRC32C, and truncated,
/// bit-flipped and hand-corrupted copies that must fail with one-line BertErrors naming the file.
import BertArtifact
import BertIR
import BertRuntime
import CBertKernels
import Foundation
import XCTest

@testable import BertCheckpoint
@testable import BertDriver

final class TFCheckpointTests: XCTestCase {
    var tmp = ""
    let fixture = TestPaths.fixture("tf/tiny-classifier")
    var indexPath: String { fixture + "/model.ckpt.index" }
    var dataPath: String { fixture + "/model.ckpt.data-00000-of-00001" }

    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }


    /// A copy of the fixture folder in the temp dir (files byte-identical).
    func copyFixture(_ name: String = "ckpt") throws -> String {
        let dir = tmp + "/" + name
        try FileManager.default.copyItem(atPath: fixture, toPath: dir)
        return dir
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    func write(_ b: [UInt8], _ path: String) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }

    // MARK: CRC32C

    func testCRC32CKnownValues() {
        // RFC 3720 B.4 / LevelDB crc32c_test.cc check values.
        let digits = Array("123456789".utf8)
        XCTAssertEqual(bk_crc32c(0, digits, digits.count), 0xE306_9283)
        XCTAssertEqual(bk_crc32c_portable(0, digits, digits.count), 0xE306_9283)
        let zeros = [UInt8](repeating: 0, count: 32), ones = [UInt8](repeating: 0xFF, count: 32)
        XCTAssertEqual(bk_crc32c(0, zeros, 32), 0x8A91_36AA)
        XCTAssertEqual(bk_crc32c(0, ones, 32), 0x62A8_AB43)
        let inc = (0..<32).map { UInt8($0) }
        XCTAssertEqual(bk_crc32c(0, inc, 32), 0x46DD_794E)
        // Hardware and table agree on every length and alignment, and chaining works.
        var rng = SystemRandomNumberGenerator()
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for n in [0, 1, 7, 8, 9, 63, 64, 65, 999] {
            for off in 0..<3 where off + n <= data.count {
                data.withUnsafeBytes { p in
                    XCTAssertEqual(bk_crc32c(0, p.baseAddress! + off, n), bk_crc32c_portable(0, p.baseAddress! + off, n))
                }
            }
        }
        data.withUnsafeBytes { p in
            XCTAssertEqual(bk_crc32c(bk_crc32c(0, p.baseAddress!, 400), p.baseAddress! + 400, 600), bk_crc32c(0, p.baseAddress!, 1000))
        }
        // LevelDB's mask: masking changes the value and unmasking restores it.
        XCTAssertNotEqual(MaskedCRC.mask(0xE306_9283), 0xE306_9283)
        XCTAssertEqual(MaskedCRC.unmask(MaskedCRC.mask(0xE306_9283)), 0xE306_9283)
        XCTAssertEqual(MaskedCRC.mask(0), 0xA282_EAD8)
    }

    // MARK: The fixture against the safetensors original

    func testSameIRAndWeightsAsSafetensors() throws {
        let tf = try CheckpointLoader.load(path: fixture)
        let st = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-classifier"))
        XCTAssertEqual(tf.metadata.sourceFormat, "tf-checkpoint")
        XCTAssertEqual(st.metadata.sourceFormat, "safetensors")
        XCTAssertEqual(tf.config.architecture, "BertForSequenceClassification")
        XCTAssertEqual(tf.config.numLabels, 3)
        XCTAssertEqual(tf.config.id2label ?? [], ["LABEL_0", "LABEL_1", "LABEL_2"])
        XCTAssertEqual(tf.config.layerNormEps, 1e-7)
        XCTAssertEqual(tf.module.name, "tiny-classifier")
        XCTAssertEqual(IRPrinter.print(tf.module), IRPrinter.print(st.module))
        XCTAssertEqual(tf.module.tensors.count, 5 + 16 * 3 + 2 + 2)
        for name in st.weights.names {
            let a = try XCTUnwrap(tf.weights[name], name), b = try XCTUnwrap(st.weights[name], name)
            XCTAssertTrue(a.bitwiseEqual(b), "\(name) differs")
        }
        XCTAssertEqual(tf.weights.names, st.weights.names)
        XCTAssertEqual(tf.vocab, st.vocab)
        XCTAssertFalse(tf.metadata.doLowerCase, "tokenizer_config.json beside the checkpoint says cased")
    }

    func testSkippedVariablesAreReported() throws {
        let raw = try TFCheckpointSource(path: indexPath).readTensors()
        XCTAssertEqual(raw.format, "tf-checkpoint")
        XCTAssertEqual(raw.tensors.count, 57)
        XCTAssertEqual(raw.skipped["global_step"], "training step counter")
        XCTAssertEqual(raw.skipped["bert/encoder/layer_2/output/dense/kernel/adam_m"], "optimizer slot")
        XCTAssertEqual(raw.skipped["output_weights/adam_v"], "optimizer slot")
        XCTAssertEqual(raw.skipped.values.filter { $0 == "optimizer slot" }.count, 114)
        XCTAssertEqual(raw.skipped.count, 115)
        XCTAssertEqual(TFCheckpointSource.skippedSummary(raw), "skipped 114 optimizer slot, 1 training step counter")
        // A kernel is the transpose of the torch weight: kernel[i][o] == weight[o][i].
        let st = try SafetensorsSource(path: TestPaths.fixture("models/tiny-classifier/model.safetensors")).readTensors()
        let w = try XCTUnwrap(st.tensors["bert.encoder.layer.1.intermediate.dense.weight"])
        let t = try XCTUnwrap(raw.tensors["encoder.layer.1.intermediate.dense.weight"])
        XCTAssertEqual(t.shape, [64, 48])
        XCTAssertEqual(Array(t.buffer), Array(w.buffer))
        XCTAssertEqual(raw.origin["classifier.weight"], dataPath)
    }

    func testNameMapping() {
        XCTAssertEqual(TFNames.canonical("bert/embeddings/word_embeddings").name, "embeddings.word_embeddings.weight")
        XCTAssertEqual(TFNames.canonical("bert/embeddings/LayerNorm/gamma").name, "embeddings.LayerNorm.weight")
        XCTAssertEqual(TFNames.canonical("bert/embeddings/LayerNorm/beta").name, "embeddings.LayerNorm.bias")
        let q = TFNames.canonical("bert/encoder/layer_11/attention/self/query/kernel")
        XCTAssertEqual(q.name, "encoder.layer.11.attention.self.query.weight")
        XCTAssertTrue(q.transposed)
        XCTAssertEqual(TFNames.canonical("bert/encoder/layer_0/output/LayerNorm/beta").name, "encoder.layer.0.output.LayerNorm.bias")
        XCTAssertEqual(TFNames.canonical("bert/pooler/dense/bias").name, "pooler.dense.bias")
        XCTAssertFalse(TFNames.canonical("bert/pooler/dense/bias").transposed)
        XCTAssertEqual(TFNames.canonical("output_weights").name, "classifier.weight")
        XCTAssertFalse(TFNames.canonical("output_weights").transposed)
        XCTAssertEqual(TFNames.canonical("output_bias").name, "classifier.bias")
        XCTAssertEqual(TFNames.skipReason("cls/predictions/output_bias"), "pretraining head (masked LM)")
        XCTAssertEqual(TFNames.skipReason("cls/seq_relationship/output_weights"), "pretraining head (next sentence)")
        XCTAssertEqual(TFNames.skipReason("bert/pooler/dense/kernel/adam_v"), "optimizer slot")
        XCTAssertNil(TFNames.skipReason("bert/pooler/dense/kernel"))
    }

    /// The prefix, the .index file, a data shard, the folder, and a folder whose `checkpoint` names
    /// a `model.ckpt-123` prefix all load the same model.
    func testPathForms() throws {
        let reference = IRPrinter.print(try CheckpointLoader.load(path: fixture).module)
        for p in [fixture + "/model.ckpt", indexPath, dataPath] {
            let m = try CheckpointLoader.load(path: p)
            XCTAssertEqual(m.metadata.sourceFormat, "tf-checkpoint", p)
            XCTAssertEqual(IRPrinter.print(m.module), reference, p)
        }
        let dir = try copyFixture("tiny-classifier")
        let fm = FileManager.default
        try fm.moveItem(atPath: dir + "/model.ckpt.index", toPath: dir + "/model.ckpt-123.index")
        try fm.moveItem(atPath: dir + "/model.ckpt.data-00000-of-00001", toPath: dir + "/model.ckpt-123.data-00000-of-00001")
        try "model_checkpoint_path: \"model.ckpt-123\"\nall_model_checkpoint_paths: \"model.ckpt-123\"\n"
            .write(toFile: dir + "/checkpoint", atomically: true, encoding: .utf8)
        XCTAssertEqual(IRPrinter.print(try CheckpointLoader.load(path: dir).module), reference)
        // An absolute path in the state file.
        try "model_checkpoint_path: \"\(dir)/model.ckpt-123\"\n".write(toFile: dir + "/checkpoint", atomically: true, encoding: .utf8)
        XCTAssertEqual(IRPrinter.print(try CheckpointLoader.load(path: dir).module), reference)
        // Without tokenizer_config.json, Google's default: lower-case.
        try fm.removeItem(atPath: dir + "/tokenizer_config.json")
        XCTAssertTrue(try CheckpointLoader.load(path: dir).metadata.doLowerCase)
        // State file faults.
        try "model_checkpoint_path: \"model.ckpt-999\"\n".write(toFile: dir + "/checkpoint", atomically: true, encoding: .utf8)
        assertBertError([dir + "/checkpoint", "model.ckpt-999"]) { _ = try CheckpointLoader.load(path: dir) }
        try "all_model_checkpoint_paths: \"x\"\n".write(toFile: dir + "/checkpoint", atomically: true, encoding: .utf8)
        assertBertError([dir + "/checkpoint", "no model_checkpoint_path"]) { _ = try CheckpointLoader.load(path: dir) }
        try "model_checkpoint_path: model.ckpt-123\n".write(toFile: dir + "/checkpoint", atomically: true, encoding: .utf8)
        assertBertError([dir + "/checkpoint", "not a quoted string"]) { _ = try CheckpointLoader.load(path: dir) }
    }

    func testMissingSideFilesAndShard() throws {
        let dir = try copyFixture()
        try FileManager.default.removeItem(atPath: dir + "/model.ckpt.data-00000-of-00001")
        assertBertError([dir + "/model.ckpt.data-00000-of-00001", "missing"]) { _ = try CheckpointLoader.load(path: dir) }
        try FileManager.default.removeItem(atPath: dir + "/bert_config.json")
        assertBertError([dir + "/bert_config.json", "missing"]) { _ = try CheckpointLoader.load(path: dir) }
    }

    /// Google's config has no architecture: without output_weights the checkpoint is a BertModel.
    func testConfigArchitectureFollowsCheckpoint() throws {
        let dir = try copyFixture()
        let cfg = dir + "/bert_config.json"
        XCTAssertEqual(try TFConfig.load(path: cfg, indexPath: dir + "/model.ckpt.index").architecture, "BertForSequenceClassification")
        // An index without output_weights: rename the key in a copy, fixing the block CRCs. Keys are
        // prefix-compressed ("output_weights" follows "output_bias/adam_v": its unshared part is "weights",
        // followed by the entry's dtype field 0x08 0x01), and the slots after it share its bytes, so
        // "weights" -> "weighTs" renames all three and keeps the key order.
        var b = try bytes(dir + "/model.ckpt.index")
        let needle = Array("weights".utf8) + [0x08, 0x01]
        var hits = 0
        for i in 0...(b.count - needle.count) where Array(b[i..<(i + needle.count)]) == needle {
            b[i + 5] = UInt8(ascii: "T"); hits += 1
        }
        XCTAssertEqual(hits, 1, "output_weights is stored once")
        try refreshBlockCRCs(&b)
        try write(b, dir + "/model.ckpt.index")
        let c = try TFConfig.load(path: cfg, indexPath: dir + "/model.ckpt.index")
        XCTAssertEqual(c.architecture, "BertModel")
        XCTAssertEqual(c.hiddenSize, 48)
        XCTAssertEqual(c.numHiddenLayers, 3)
        XCTAssertEqual(c.numAttentionHeads, 6)
        XCTAssertEqual(c.intermediateSize, 64)
        // ... and the renamed tensor is then an unexpected tensor for the lowering, named.
        assertBertError([dir + "/model.ckpt.index", "output_weighTs"]) { _ = try CheckpointLoader.load(path: dir) }
    }

    /// fixtures/tf/tiny-encoder-f16: a BertModel (no output_weights) in bfloat16 (embeddings) and float16
    /// (the rest) with pretraining heads. Each weight is the safetensors value rounded to that type
    /// (rounded here with Swift's Float16 and a hand-written round-to-nearest-even for bfloat16).
    func testHalfAndBFloat16Checkpoint() throws {
        let dir = TestPaths.fixture("tf/tiny-encoder-f16")
        let m = try CheckpointLoader.load(path: dir)
        let st = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-encoder"))
        XCTAssertEqual(m.metadata.sourceFormat, "tf-checkpoint")
        XCTAssertEqual(m.config.architecture, "BertModel")
        XCTAssertNil(m.metadata.id2label)
        XCTAssertEqual(m.config.layerNormEps, 1e-12)
        XCTAssertTrue(m.metadata.doLowerCase)
        func body(_ text: String) -> String { text.split(separator: "\n").dropFirst().joined(separator: "\n") }
        XCTAssertEqual(m.module.name, "tiny-encoder-f16")
        XCTAssertEqual(body(IRPrinter.print(m.module)), body(IRPrinter.print(st.module)))
        func bf16(_ x: Float) -> Float {
            let bits = x.bitPattern
            return Float(bitPattern: ((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16) << 16)
        }
        var bfloat = 0, half = 0
        for name in st.weights.names {
            let want = Array(try XCTUnwrap(st.weights[name]).buffer)
            let got = Array(try XCTUnwrap(m.weights[name], name).buffer)
            if name.hasPrefix("embeddings.") {
                XCTAssertEqual(got, want.map(bf16), name); bfloat += 1
            } else {
                XCTAssertEqual(got, want.map { Float(Float16($0)) }, name); half += 1
            }
            XCTAssertNotEqual(got, want, "\(name) was really rounded")
        }
        XCTAssertEqual(bfloat, 5)
        XCTAssertEqual(half, 34)
        let raw = try TFCheckpointSource(path: dir + "/bert_model.ckpt.index").readTensors()
        XCTAssertEqual(raw.skipped, [
            "cls/predictions/output_bias": "pretraining head (masked LM)",
            "cls/seq_relationship/output_weights": "pretraining head (next sentence)",
            "cls/seq_relationship/output_bias": "pretraining head (next sentence)",
            "global_step": "training step counter",
        ])
    }

    /// A weight of an unsupported dtype is named with its dtype (global_step's DT_INT64 under a weight's name).
    func testUnsupportedDTypeIsNamed() throws {
        let dir = try copyFixture()
        let p = dir + "/model.ckpt.index"
        var b = try bytes(p)
        // Give output_bias the dtype DT_INT32 (3) and a matching 4-byte element: it is float32 [3], so only the dtype changes.
        let key = Array("bias".utf8) + [0x08, 0x01]
        var hits: [Int] = []
        for i in 0...(b.count - key.count) where Array(b[i..<(i + key.count)]) == key { hits.append(i) }
        // The last "bias" entry in key order is output_bias (its slots share its key bytes).
        let at = try XCTUnwrap(hits.last)
        b[at + 5] = 0x03
        try refreshBlockCRCs(&b)
        try write(b, p)
        assertBertError([p, "classifier.bias", "DT_INT32"]) { _ = try CheckpointLoader.load(path: dir) }
    }

    // MARK: End to end

    func testLogitsMatchTransformers() throws {
        let out = tmp + "/tf.bin"
        _ = try Compiler.compile(model: fixture, output: out)
        let task = try LoadedTask.load(path: out, baseOverride: nil, threads: 2, verify: true)
        let cases = try readJSONLines(TestPaths.fixture("reference/tiny-classifier.jsonl"))
        XCTAssertEqual(cases.count, 40)
        for (i, c) in cases.enumerated() {
            let r = try task.engine.run(Batch(rows: [(ints(c["input_ids"]), ints(c["token_type_ids"]))]))
            XCTAssertLessThanOrEqual(maxAbsDiff(r.row("logits", 0) ?? [], floats(c["logits"])), 1e-5, "case \(i) logits")
            XCTAssertLessThanOrEqual(maxAbsDiff(r.row("pooler_output", 0) ?? [], floats(c["pooler_output"])), 1e-5, "case \(i)")
            // The tokenizer follows the cased model's tokenizer_config.json.
            let text = c["text"] as? String ?? ""
            let maxLength = (c["max_length"] as? Int) ?? task.metadata.maxPosition
            XCTAssertEqual(task.tokenizer.encode(text, pair: c["text_b"] as? String, maxLength: maxLength).ids,
                           ints(c["input_ids"]), "case \(i) ids")
        }
    }

    func testDumpNamesSourceFormat() throws {
        let r = try runTool("bertc", ["dump", fixture + "/model.ckpt"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("// checkpoint \(fixture)/model.ckpt (tf-checkpoint, BertForSequenceClassification)"),
                      String(r.out.prefix(200)))
        XCTAssertTrue(r.out.contains("tensor @encoder.layer.2.output.dense.weight : f32[48, 64]"))
        // A corrupt copy: exit 1 and one line naming the file.
        let dir = try copyFixture()
        var d = try bytes(dir + "/model.ckpt.data-00000-of-00001")
        d[d.count / 2] ^= 0x10
        try write(d, dir + "/model.ckpt.data-00000-of-00001")
        let bad = try runTool("bertc", ["dump", dir])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.hasPrefix("bertc: error: \(dir)/model.ckpt.data-00000-of-00001: tensor '"), bad.err)
        XCTAssertEqual(bad.err.split(separator: "\n").count, 1, bad.err)
    }

    // MARK: Corrupt copies

    func testTruncatedIndex() throws {
        let full = try bytes(indexPath)
        let dir = try copyFixture()
        let p = dir + "/model.ckpt.index"
        var lengths = [0, 1, 8, 47, 48, 49, 100, full.count / 2, full.count - 49, full.count - 48, full.count - 9, full.count - 1]
        lengths += stride(from: 3, to: full.count, by: 211)
        for n in lengths {
            try write(Array(full[0..<n]), p)
            assertBertError([p]) { _ = try CheckpointLoader.load(path: dir) }
        }
    }

    func testTruncatedData() throws {
        let full = try bytes(dataPath)
        let dir = try copyFixture()
        let p = dir + "/model.ckpt.data-00000-of-00001"
        for n in [0, 1, 4000, full.count / 2, full.count - 1] {
            try write(Array(full[0..<n]), p)
            assertBertError([p, "runs past the end"]) { _ = try TFCheckpointSource(path: dir + "/model.ckpt.index").readTensors() }
            assertBertError([p]) { _ = try CheckpointLoader.load(path: dir) }
        }
    }

    /// Every bit flip inside the index's data and index blocks is caught (CRC32C or parse error naming
    /// the .index file); flips elsewhere (the unread metaindex block and its handle, footer padding) may
    /// pass but must then give the very same entries.
    func testBitFlippedIndex() throws {
        let full = try bytes(indexPath)
        let dir = try copyFixture()
        let p = dir + "/model.ckpt.index"
        // Footer handles, decoded here by hand: metaindex (offset, size), index (offset, size).
        var pos = full.count - 48
        func varint() -> Int {
            var v = 0, shift = 0
            while true { let b = full[pos]; pos += 1; v |= Int(b & 0x7F) << shift; shift += 7; if b < 0x80 { return v } }
        }
        let metaOff = varint(), metaLen = varint()
        let metaHandleEnd = pos
        let indexOff = varint(), indexLen = varint()
        let handleEnd = pos
        XCTAssertEqual(indexOff + indexLen + 5, full.count - 48)
        let tolerated = Set(metaOff..<(metaOff + metaLen + 5)).union((full.count - 48)..<metaHandleEnd)
            .union(handleEnd..<(full.count - 8))
        func summary(_ b: TensorBundle) -> [String] {
            b.entries.map { "\($0.name) \($0.dtype) \($0.shape) \($0.shardID) \($0.offset) \($0.size) \($0.crc32c ?? 0)" }
        }
        let reference = summary(try TensorBundle(indexPath: indexPath))
        XCTAssertEqual(reference.count, 172)
        var caught = 0
        for i in 0..<full.count {
            var b = full
            b[i] ^= UInt8(1 << (i % 8))
            try write(b, p)
            do {
                let got = summary(try TensorBundle(indexPath: p))
                XCTAssertTrue(tolerated.contains(i), "flip at byte \(i) of \(full.count) went unnoticed")
                XCTAssertEqual(got, reference, "flip at byte \(i)")
            } catch let e as BertError {
                XCTAssertEqual(e.file, p, e.description)
                XCTAssertFalse(e.description.contains("\n"))
                caught += 1
            }
        }
        XCTAssertGreaterThanOrEqual(caught, full.count - tolerated.count)
        // A few full loads of flipped copies through the loader.
        for i in [0, 100, full.count / 2, full.count - 60, full.count - 3] {
            var b = full
            b[i] ^= 0x01
            try write(b, p)
            assertBertError([p]) { _ = try CheckpointLoader.load(path: dir) }
        }
    }

    /// A flipped bit in any tensor's bytes is a CRC mismatch naming the data file and the tensor.
    func testBitFlippedData() throws {
        let bundle = try TensorBundle(indexPath: indexPath)
        XCTAssertEqual(bundle.entries.count, 57 * 3 + 1)
        let full = try bytes(dataPath)
        let dir = try copyFixture()
        let p = dir + "/model.ckpt.data-00000-of-00001"
        for (n, e) in bundle.entries.enumerated() where n % 7 == 0 || e.name == "global_step" {
            var b = full
            b[e.offset + (e.size * 3) / 4] ^= UInt8(1 << (n % 8))
            try write(b, p)
            assertBertError([p, "tensor '\(e.name)'", "CRC32C"]) { _ = try TFCheckpointSource(path: dir + "/model.ckpt.index").readTensors() }
        }
    }

    // MARK: Hand-corrupted index with valid checksums (parse-level faults)

    /// Recomputes the masked CRC32C of every block (index block and the data blocks it lists).
    func refreshBlockCRCs(_ b: inout [UInt8]) throws {
        var pos = b.count - 48
        func varint(_ a: [UInt8], _ p: inout Int) -> Int {
            var v = 0, shift = 0
            while true { let x = a[p]; p += 1; v |= Int(x & 0x7F) << shift; shift += 7; if x < 0x80 { return v } }
        }
        _ = varint(b, &pos); _ = varint(b, &pos)
        let io = varint(b, &pos), il = varint(b, &pos)
        var handles = [(io, il)]
        // Index entries: shared, unshared, value length, key, value (a handle).
        let restarts = Int(b[io + il - 4]) | Int(b[io + il - 3]) << 8
        var p = io
        while p < io + il - 4 - 4 * restarts {
            _ = varint(b, &p); let un = varint(b, &p); _ = varint(b, &p)
            p += un
            let o = varint(b, &p), l = varint(b, &p)
            handles.append((o, l))
        }
        for (o, l) in handles {
            let crc = MaskedCRC.mask(bk_crc32c(0, Array(b[o..<(o + l + 1)]), l + 1))
            for k in 0..<4 { b[o + l + 1 + k] = UInt8((crc >> (8 * UInt32(k))) & 0xFF) }
        }
    }

    func testCompressedBlockIsRefused() throws {
        var b = try bytes(indexPath)
        var same = b
        try refreshBlockCRCs(&same)
        XCTAssertEqual(same, b, "the fixture's block checksums are what refreshBlockCRCs computes")
        // Mark the index block (the last block before the footer) Snappy-compressed, with a valid CRC.
        b[b.count - 48 - 5] = 1
        try refreshBlockCRCs(&b)
        let dir = try copyFixture()
        let p = dir + "/model.ckpt.index"
        try write(b, p)
        assertBertError([p, "compressed (Snappy)", "uncompressed"]) { _ = try CheckpointLoader.load(path: dir) }
        b[b.count - 48 - 5] = 2
        try refreshBlockCRCs(&b)
        try write(b, p)
        assertBertError([p, "compressed (Zstd)"]) { _ = try TFCheckpointSource(path: p).readTensors() }
    }

    func testMalformedEntriesAreRefused() throws {
        // Wire-level faults in a BundleEntryProto.
        func entry(_ bytes: [UInt8]) throws -> BundleEntry { try BundleEntry.decode(bytes[...], name: "t") }
        // dtype=1, shape {dim {size 3}}, offset 0, size 12.
        let good: [UInt8] = [0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x08, 0x03, 0x20, 0x00, 0x28, 0x0C, 0x35, 1, 2, 3, 4]
        let e = try entry(good)
        XCTAssertEqual(e.dtype, .float); XCTAssertEqual(e.shape, [3]); XCTAssertEqual(e.size, 12)
        XCTAssertEqual(e.crc32c, 0x0403_0201)
        // An unknown field (number 15, varint) is skipped.
        XCTAssertEqual(try entry(good + [0x78, 0x05]).shape, [3])
        let bad: [(String, [UInt8])] = [
            ("truncated varint", [0x08, 0x81]),
            ("group wire type", [0x0B]),
            ("field number 0", [0x00, 0x01]),
            ("length past end", [0x12, 0x09, 0x12]),
            ("negative dim", [0x12, 0x0D, 0x12, 0x0B, 0x08] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            ("huge dims", [0x12, 0x10, 0x12, 0x06, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x12, 0x06, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x07]),
            ("over-long varint", [0x20] + [UInt8](repeating: 0xFF, count: 10) + [0x01]),
            ("crc as varint", [0x30, 0x01]),
            ("truncated fixed32", [0x35, 0x01, 0x02]),
        ]
        for (what, b) in bad {
            XCTAssertThrowsError(try entry(b), what) { XCTAssertTrue($0 is MalformedProto, what) }
        }
        // Block-level faults.
        assertBertError(["x.index", "restart count"]) { _ = try SSTable.parseBlock([0xFF, 0xFF, 0, 0], path: "x.index", what: "b") }
        assertBertError(["x.index", "shares 3 bytes"]) { _ = try SSTable.parseBlock([3, 1, 0, 65, 0, 0, 0, 0], path: "x.index", what: "b") }
        assertBertError(["x.index", "runs past the end"]) { _ = try SSTable.parseBlock([0, 9, 0, 65, 0, 0, 0, 0], path: "x.index", what: "b") }
        assertBertError(["x.index", "too small"]) { _ = try SSTable.parseBlock([0, 0], path: "x.index", what: "b") }
        let parsed = try SSTable.parseBlock([0, 2, 1, 65, 66, 7, 1, 1, 1, 67, 8, 0, 0, 0, 0, 1, 0, 0, 0], path: "x.index", what: "b")
        XCTAssertEqual(parsed.map { $0.key }, [[65, 66], [65, 67]])
        XCTAssertEqual(parsed.map { Array($0.value) }, [[7], [8]])
    }

    /// A size in the index that disagrees with the shape, and a tensor pointing past the data file,
    /// both written with valid block checksums.
    func testIndexEntryInconsistentWithData() throws {
        let dir = try copyFixture()
        let p = dir + "/model.ckpt.index"
        var b = try bytes(p)
        // global_step: int64 scalar, size 8: find its entry value (dtype 9 ... size field 0x28 0x08).
        let key = Array("global_step".utf8)
        var at = -1
        for i in 0...(b.count - key.count) where Array(b[i..<(i + key.count)]) == key { at = i + key.count }
        XCTAssertGreaterThan(at, 0)
        XCTAssertEqual(b[at], 0x08); XCTAssertEqual(b[at + 1], 0x09)  // dtype DT_INT64
        let sizeAt = try XCTUnwrap((at..<(at + 20)).first { b[$0] == 0x28 && b[$0 + 1] == 0x08 })
        b[sizeAt + 1] = 0x10  // size 16 for one int64
        try refreshBlockCRCs(&b)
        try write(b, p)
        assertBertError([p, "tensor 'global_step'", "needs 8 bytes", "16"]) { _ = try CheckpointLoader.load(path: dir) }
    }
}
