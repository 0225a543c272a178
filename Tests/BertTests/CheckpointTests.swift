/// Tests of checkpoint import (BertCheckpoint): the safetensors reader (plain, sharded, F16/BF16,
/// malformed files), config.json and side-file validation, and lowering to the canonical IR.
import BertCheckpoint
import BertIR
import Foundation
import XCTest

/// Writes .safetensors files for the tests (the format is a length, a JSON header and raw bytes).
enum STWriter {
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: [UInt8]
    }

    static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> Entry {
        Entry(name: name, dtype: "F32", shape: shape, bytes: values.flatMap { v -> [UInt8] in
            withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
        })
    }

    static func u16(_ name: String, _ dtype: String, _ shape: [Int], _ bits: [UInt16]) -> Entry {
        Entry(name: name, dtype: dtype, shape: shape, bytes: bits.flatMap { v -> [UInt8] in
            withUnsafeBytes(of: v.littleEndian) { Array($0) }
        })
    }

    /// The file bytes; `pad` extra spaces after the JSON shift the data section.
    static func encode(_ entries: [Entry], pad: Int = 0, metadata: Bool = true) -> [UInt8] {
        var parts: [String] = metadata ? ["\"__metadata__\":{\"format\":\"pt\"}"] : []
        var data: [UInt8] = []
        for e in entries {
            let begin = data.count
            data += e.bytes
            parts.append("\"\(e.name)\":{\"dtype\":\"\(e.dtype)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(data.count)]}")
        }
        let header = Array(("{" + parts.joined(separator: ",") + "}" + String(repeating: " ", count: pad)).utf8)
        return withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + data
    }

    /// A file from a raw header string and data bytes.
    static func raw(header: String, data: [UInt8], lengthOverride: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { Array($0) } + h + data
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// A tiny synthetic BERT (hidden 4, 2 heads, intermediate 6, vocab 8) written into a temp folder.
struct SyntheticModel {
    var hidden = 4, heads = 2, inter = 6, layers = 1, vocab = 8, maxPos = 8, types = 2, labels = 2
    var classifier = false
    var pooler = true

    var config: [String: Any] {
        var c: [String: Any] = [
            "model_type": "bert", "architectures": [classifier ? "BertForSequenceClassification" : "BertModel"],
            "hidden_size": hidden, "num_attention_heads": heads, "intermediate_size": inter,
            "num_hidden_layers": layers, "vocab_size": vocab, "max_position_embeddings": maxPos,
            "type_vocab_size": types, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        ]
        if classifier { c["id2label"] = Dictionary(uniqueKeysWithValues: (0..<labels).map { ("\($0)", "L\($0)") }) }
        return c
    }

    /// Every tensor with deterministic values: element k of the n-th tensor is n + k/1000.
    func entries(prefix: String = "") -> [STWriter.Entry] {
        var shapes: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [vocab, hidden]),
            ("embeddings.position_embeddings.weight", [maxPos, hidden]),
            ("embeddings.token_type_embeddings.weight", [types, hidden]),
            ("embeddings.LayerNorm.weight", [hidden]), ("embeddings.LayerNorm.bias", [hidden]),
        ]
        for l in 0..<layers {
            let p = "encoder.layer.\(l)."
            for part in ["query", "key", "value"] {
                shapes.append((p + "attention.self.\(part).weight", [hidden, hidden]))
                shapes.append((p + "attention.self.\(part).bias", [hidden]))
            }
            shapes += [(p + "attention.output.dense.weight", [hidden, hidden]), (p + "attention.output.dense.bias", [hidden]),
                       (p + "attention.output.LayerNorm.weight", [hidden]), (p + "attention.output.LayerNorm.bias", [hidden]),
                       (p + "intermediate.dense.weight", [inter, hidden]), (p + "intermediate.dense.bias", [inter]),
                       (p + "output.dense.weight", [hidden, inter]), (p + "output.dense.bias", [hidden]),
                       (p + "output.LayerNorm.weight", [hidden]), (p + "output.LayerNorm.bias", [hidden])]
        }
        if pooler { shapes += [("pooler.dense.weight", [hidden, hidden]), ("pooler.dense.bias", [hidden])] }
        var out = shapes.enumerated().map { n, s in
            STWriter.f32(prefix + s.0, s.1, (0..<s.1.reduce(1, *)).map { Float(n) + Float($0) / 1000 })
        }
        if classifier {
            out.append(STWriter.f32("classifier.weight", [labels, hidden], (0..<labels * hidden).map { Float($0) }))
            out.append(STWriter.f32("classifier.bias", [labels], (0..<labels).map { Float($0) }))
        }
        return out
    }

    /// Writes config.json, vocab.txt and model.safetensors into `dir`.
    func write(to dir: String, entries: [STWriter.Entry]? = nil, config override: [String: Any]? = nil) throws {
        let cfg = try JSONSerialization.data(withJSONObject: override ?? config)
        try cfg.write(to: URL(fileURLWithPath: dir + "/config.json"))
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
        try STWriter.write(STWriter.encode(entries ?? self.entries()), to: dir + "/model.safetensors")
    }
}

final class CheckpointTests: XCTestCase {
    var tmp: String = ""

    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }


    // MARK: Fixtures

    func testTinyEncoderFixture() throws {
        let m = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-encoder"))
        XCTAssertEqual(m.module.name, "tiny-encoder")
        XCTAssertEqual(m.config.hiddenSize, 32)
        XCTAssertEqual(m.config.numHiddenLayers, 2)
        // 5 embedding tensors + 16 per layer + 2 pooler.
        XCTAssertEqual(m.module.tensors.count, 5 + 16 * 2 + 2)
        // 3 inputs + 2 embedding ops + 12 per layer + output + cls/linear/tanh/output.
        XCTAssertEqual(m.module.ops.count, 3 + 2 + 12 * 2 + 1 + 4)
        XCTAssertEqual(m.module.outputNames, ["last_hidden_state", "pooler_output"])
        XCTAssertEqual(m.module.tensor(named: "encoder.layer.1.intermediate.dense.weight")?.shape, [37, 32])
        XCTAssertEqual(m.module.tensor(named: "embeddings.position_embeddings.weight")?.shape, [64, 32])
        XCTAssertEqual(m.metadata.architecture, "BertModel")
        XCTAssertEqual(m.metadata.pooling, "mean")
        XCTAssertFalse(m.metadata.normalize)
        XCTAssertEqual(m.metadata.maxPosition, 64)
        XCTAssertTrue(m.metadata.doLowerCase)
        XCTAssertNil(m.metadata.id2label)
        XCTAssertEqual(m.metadata.sourceFormat, "safetensors")
        XCTAssertEqual(m.vocab.first, "[PAD]")
        let size = try FileManager.default.attributesOfItem(atPath: TestPaths.fixture("models/tiny-encoder/model.safetensors"))[.size] as? Int
        XCTAssertEqual(m.sourceBytes, size)
        // Every declared tensor has data of the declared shape.
        for t in m.module.tensors { XCTAssertEqual(m.weights[t.name]?.shape, t.shape, t.name) }
        XCTAssertEqual(m.weights.names.count, m.module.tensors.count)
        // The attention op carries the head count, layer norms the eps.
        let att = m.module.ops.first { $0.kind == .attention }
        XCTAssertEqual(att?.attributes[attr: "heads"], .int(4))
        XCTAssertEqual(m.module.ops.first { $0.kind == .layerNorm }?.attributes[attr: "eps"], .float(1e-12))
    }

    func testTinyClassifierFixture() throws {
        let m = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-classifier"))
        XCTAssertEqual(m.config.architecture, "BertForSequenceClassification")
        XCTAssertEqual(m.module.tensors.count, 5 + 16 * 3 + 2 + 2)
        XCTAssertEqual(m.module.ops.count, 3 + 2 + 12 * 3 + 1 + 4 + 2)
        XCTAssertEqual(m.module.outputNames, ["last_hidden_state", "pooler_output", "logits"])
        XCTAssertEqual(m.module.tensor(named: "classifier.weight")?.shape, [3, 48])
        XCTAssertEqual(m.metadata.id2label, ["negative", "neutral", "positive"])
        XCTAssertFalse(m.metadata.doLowerCase)
        XCTAssertEqual(m.module.ops.first { $0.kind == .layerNorm }?.attributes[attr: "eps"], .float(1e-7))
        XCTAssertEqual(m.module.ops.last { $0.kind == .linear }?.type, ValueType(.f32, [.batch, .fixed(3)]))
        XCTAssertNil(m.metadata.pooling)
    }

    func testBertPrefixIsStripped() throws {
        let m = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-classifier-ft"))
        XCTAssertNotNil(m.weights["embeddings.word_embeddings.weight"])
        XCTAssertNotNil(m.weights["classifier.weight"])
        XCTAssertFalse(m.weights.names.contains { $0.hasPrefix("bert.") })
    }

    func testShardedEqualsUnsharded() throws {
        let a = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-encoder"))
        let b = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-encoder-sharded"))
        XCTAssertEqual(a.module.tensors, b.module.tensors)
        XCTAssertEqual(a.module.ops, b.module.ops)
        XCTAssertEqual(a.weights.names, b.weights.names)
        for name in a.weights.names {
            guard let x = a.weights[name], let y = b.weights[name] else { XCTFail(name); continue }
            XCTAssertTrue(x.bitwiseEqual(y), name)
        }
        XCTAssertEqual(a.metadata, b.metadata)
    }

    func testShardErrors() throws {
        let src = TestPaths.fixture("models/tiny-encoder-sharded")
        let dir = tmp + "/sharded"
        try FileManager.default.copyItem(atPath: src, toPath: dir)
        // A tensor listed in the index but absent from its shard.
        let indexPath = dir + "/model.safetensors.index.json"
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: indexPath))) as? [String: Any] ?? [:]
        var map = index["weight_map"] as? [String: Any] ?? [:]
        map["encoder.layer.9.output.dense.weight"] = "model-00001-of-00003.safetensors"
        index["weight_map"] = map
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: indexPath))
        assertBertError(["model-00001-of-00003.safetensors", "encoder.layer.9.output.dense.weight"]) {
            _ = try CheckpointLoader.load(path: dir)
        }
        // A missing shard.
        map["encoder.layer.9.output.dense.weight"] = nil
        index["weight_map"] = map
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: indexPath))
        XCTAssertNoThrow(try CheckpointLoader.load(path: dir))
        try FileManager.default.removeItem(atPath: dir + "/model-00002-of-00003.safetensors")
        assertBertError(["model-00002-of-00003.safetensors", "missing"]) { _ = try CheckpointLoader.load(path: dir) }
    }

    func testMiniLMIfPresent() throws {
        guard let dir = TestPaths.miniLM else { throw XCTSkip("MiniLM not fetched") }
        let m = try CheckpointLoader.load(path: dir)
        XCTAssertEqual(m.module.tensors.count, 5 + 16 * 6 + 2)
        XCTAssertEqual(m.module.ops.count, 3 + 2 + 12 * 6 + 1 + 4)
        XCTAssertEqual(m.metadata.pooling, "mean")
        XCTAssertTrue(m.metadata.normalize)
        XCTAssertEqual(m.vocab.count, 30522)
    }

    // MARK: Safetensors reader

    func testSyntheticValuesAndZeroCopy() throws {
        let path = tmp + "/a.safetensors"
        try STWriter.write(STWriter.encode([STWriter.f32("w", [2, 3], [1, 2, 3, 4, 5, -6.5]),
                                            STWriter.f32("empty", [0, 4], []),
                                            STWriter.Entry(name: "ids", dtype: "I64", shape: [2], bytes: Array(repeating: 0, count: 16))],
                                           pad: 4 - (32 + 58) % 4), to: path)
        let t = try SafetensorsSource(path: path).readTensors()
        XCTAssertEqual(t.tensors["w"]?.shape, [2, 3])
        XCTAssertEqual(t.tensors["w"].map { Array($0.buffer) }, [1, 2, 3, 4, 5, -6.5])
        XCTAssertEqual(t.tensors["empty"]?.count, 0)
        XCTAssertEqual(t.skipped["ids"], "I64")
        XCTAssertNil(t.tensors["ids"])
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(file.metadata["format"], "pt")
        // Aligned F32 data points straight into the map.
        if let w = t.tensors["w"], file.dataStart % 4 == 0 {
            XCTAssertTrue(w.owner is MappedFile)
        }
    }

    func testMisalignedF32IsCopied() throws {
        for pad in 0..<4 {
            let path = tmp + "/m\(pad).safetensors"
            try STWriter.write(STWriter.encode([STWriter.f32("w", [3], [0.5, -1, 7])], pad: pad), to: path)
            let file = try SafetensorsFile(path: path)
            let t = try SafetensorsSource(path: path).readTensors()
            XCTAssertEqual(t.tensors["w"].map { Array($0.buffer) }, [0.5, -1, 7], "pad \(pad)")
            XCTAssertEqual(t.tensors["w"]?.owner is MappedFile, file.dataStart % 4 == 0, "pad \(pad)")
        }
    }

    func testHalfAndBFloatWidening() throws {
        // Bit patterns and widened values computed with torch (x.half(), x.bfloat16()).
        let f16Bits: [UInt16] = [15360, 49408, 16968, 31743, 168, 32768]
        let f16Want: [Float] = [1.0, -2.5, 3.140625, 65504.0, 1.0013580322265625e-05, -0.0]
        let bf16Bits: [UInt16] = [16256, 49184, 16457, 18304, 14120, 32768]
        let bf16Want: [Float] = [1.0, -2.5, 3.140625, 65536.0, 1.0013580322265625e-05, -0.0]
        for pad in 0..<2 {
            let path = tmp + "/h\(pad).safetensors"
            try STWriter.write(STWriter.encode([STWriter.u16("h", "F16", [2, 3], f16Bits),
                                                STWriter.Entry(name: "odd", dtype: "U8", shape: [1], bytes: [7]),
                                                STWriter.u16("b", "BF16", [6], bf16Bits)], pad: pad), to: path)
            let t = try SafetensorsSource(path: path).readTensors()
            XCTAssertEqual(t.tensors["h"]?.shape, [2, 3])
            XCTAssertEqual(t.tensors["h"].map { Array($0.buffer).map(\.bitPattern) }, f16Want.map(\.bitPattern), "pad \(pad)")
            XCTAssertEqual(t.tensors["b"].map { Array($0.buffer).map(\.bitPattern) }, bf16Want.map(\.bitPattern), "pad \(pad)")
        }
    }

    func testMalformedFiles() throws {
        let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let data8 = [UInt8](repeating: 0, count: 8)
        let cases: [(String, [UInt8], [String])] = [
            ("short", [1, 2, 3], ["smaller than the 8-byte header"]),
            ("huge", STWriter.raw(header: good, data: data8, lengthOverride: 99_999_999), ["header length 99999999 exceeds file size"]),
            ("huge64", STWriter.raw(header: good, data: data8, lengthOverride: UInt64.max), ["exceeds file size"]),
            ("truncated-header", Array(STWriter.raw(header: good, data: data8).prefix(30)), ["exceeds file size"]),
            ("badjson", STWriter.raw(header: #"{"w":{"dtype":"F32","#, data: data8), ["not valid JSON"]),
            ("notobject", STWriter.raw(header: "[1, 2]", data: data8), ["not a JSON object"]),
            ("notutf8", STWriter.raw(header: "{}", data: []).prefix(8) + [0x7B, 0xFF, 0xFE, 0x7D], ["UTF-8"]),
            ("beyond", STWriter.raw(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: data8), ["w", "exceed data size 8"]),
            ("reversed", STWriter.raw(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: data8), ["reversed"]),
            ("mismatch", STWriter.raw(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: data8), ["w", "needs 12 bytes", "span 8"]),
            ("overflow", STWriter.raw(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: data8), ["w", "too large"]),
            ("negative", STWriter.raw(header: #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: data8), ["w", "non-negative"]),
            ("fraction", STWriter.raw(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0.5,8]}}"#, data: data8), ["data_offsets"]),
            ("dtype", STWriter.raw(header: #"{"w":{"dtype":"F128","shape":[2],"data_offsets":[0,8]}}"#, data: data8), ["unknown dtype 'F128'"]),
            ("nodtype", STWriter.raw(header: #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, data: data8), ["missing dtype"]),
            ("overlap", STWriter.raw(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: data8), ["overlaps"]),
        ]
        for (name, bytes, needles) in cases {
            let path = tmp + "/\(name).safetensors"
            try STWriter.write(bytes, to: path)
            assertBertError(["\(name).safetensors"] + needles) { _ = try SafetensorsSource(path: path).readTensors() }
        }
        assertBertError(["nothere.safetensors", "cannot open"]) { _ = try SafetensorsSource(path: tmp + "/nothere.safetensors").readTensors() }
    }

    /// Truncating or corrupting a real file anywhere gives an error or a valid read, never a crash.
    func testCorruptionNeverCrashes() throws {
        let src = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("models/tiny-encoder/model.safetensors"))))
        let path = tmp + "/c.safetensors"
        var errors = 0
        for cut in stride(from: 0, to: src.count, by: max(1, src.count / 150)) {
            try STWriter.write(Array(src.prefix(cut)), to: path)
            do { _ = try SafetensorsSource(path: path).readTensors() } catch is BertError { errors += 1 }
        }
        XCTAssertGreaterThan(errors, 100)
        var rng = SystemRandomNumberGenerator()
        let headerEnd = min(src.count, 8 + 400)
        for _ in 0..<300 {
            var b = src
            let i = Int.random(in: 0..<headerEnd, using: &rng)
            b[i] = UInt8.random(in: 0...255, using: &rng)
            try STWriter.write(b, to: path)
            do { _ = try SafetensorsSource(path: path).readTensors() } catch is BertError {}
        }
    }

    // MARK: Config and side files

    func testConfigRefusals() throws {
        let m = SyntheticModel()
        let cases: [(String, Any, [String])] = [
            ("architectures", ["BertForMaskedLM"], ["config.json", "unsupported architectures 'BertForMaskedLM'"]),
            ("hidden_act", "gelu_new", ["config.json", "hidden_act", "gelu_new"]),
            ("hidden_act", "relu", ["hidden_act", "relu"]),
            ("position_embedding_type", "relative_key", ["position_embedding_type"]),
            ("is_decoder", true, ["is_decoder"]),
            ("add_cross_attention", true, ["add_cross_attention"]),
            ("model_type", "roberta", ["model_type"]),
            ("num_attention_heads", 3, ["hidden_size 4", "num_attention_heads 3"]),
            ("hidden_size", -4, ["hidden_size"]),
            ("layer_norm_eps", "tiny", ["layer_norm_eps"]),
        ]
        for (key, value, needles) in cases {
            var cfg = m.config
            cfg[key] = value
            let dir = tmp + "/cfg-\(key)-\(needles.count)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try m.write(to: dir, config: cfg)
            assertBertError(needles) { _ = try CheckpointLoader.load(path: dir) }
        }
        // Absent model_type is fine when architectures names a Bert model; absent optional fields take defaults.
        var cfg = m.config
        cfg["model_type"] = nil
        cfg["layer_norm_eps"] = nil
        let data = try JSONSerialization.data(withJSONObject: cfg)
        let c = try BertConfig.parse(data: data, path: "config.json")
        XCTAssertEqual(c.layerNormEps, 1e-12)
        XCTAssertEqual(c.hiddenSize, 4)
        assertBertError(["config.json", "not valid JSON"]) { _ = try BertConfig.parse(data: Data("{".utf8), path: "config.json") }
    }

    func testSyntheticModelLoadsAndLowers() throws {
        var m = SyntheticModel()
        m.classifier = true
        m.layers = 2
        // bert. prefix, TF-style gamma/beta and an int64 position_ids buffer are all accepted.
        var entries = m.entries().map { e -> STWriter.Entry in
            var e = e
            if !e.name.hasPrefix("classifier") { e.name = "bert." + e.name }
            if e.name == "bert.embeddings.LayerNorm.weight" { e.name = "bert.embeddings.LayerNorm.gamma" }
            if e.name == "bert.embeddings.LayerNorm.bias" { e.name = "bert.embeddings.LayerNorm.beta" }
            return e
        }
        entries.append(STWriter.Entry(name: "bert.embeddings.position_ids", dtype: "I64", shape: [1, 8], bytes: Array(repeating: 0, count: 64)))
        try m.write(to: tmp, entries: entries)
        let loaded = try CheckpointLoader.load(path: tmp)
        let names = loaded.module.tensors.map(\.name)
        XCTAssertEqual(Array(names.prefix(5)), ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                                                "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
                                                "embeddings.LayerNorm.bias"])
        XCTAssertEqual(names[5], "encoder.layer.0.attention.self.query.weight")
        XCTAssertEqual(Array(names.suffix(4)), ["pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias"])
        // Values are the ones written: tensor 3 (embeddings LayerNorm weight) is 3.000, 3.001, ...
        XCTAssertEqual(loaded.weights["embeddings.LayerNorm.weight"].map { Array($0.buffer) }, [3.0, 3.001, 3.002, 3.003])
        XCTAssertEqual(loaded.metadata.id2label, ["L0", "L1"])
        XCTAssertEqual(loaded.vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"])
        // The exact op sequence.
        let kinds = loaded.module.ops.map(\.kind.rawValue)
        let layer = ["linear", "linear", "linear", "attention", "linear", "add", "layer_norm", "linear", "gelu",
                     "linear", "add", "layer_norm"]
        XCTAssertEqual(kinds, ["input", "input", "input", "embeddings", "layer_norm"] + layer + layer
                       + ["output", "cls", "linear", "tanh", "output", "linear", "output"])
        XCTAssertEqual(loaded.module.ops.compactMap(\.result),
                       ["input_ids", "token_type_ids", "attention_mask"] + (0..<30).map(String.init))
        let q = loaded.module.ops[5]
        XCTAssertEqual(q.operands, [.value("1"), .tensor("encoder.layer.0.attention.self.query.weight"),
                                    .tensor("encoder.layer.0.attention.self.query.bias")])
        let att = loaded.module.ops[8]
        XCTAssertEqual(att.operands, [.value("2"), .value("3"), .value("4"), .value("attention_mask")])
        XCTAssertEqual(loaded.module.ops[10].operands, [.value("6"), .value("1")])  // residual: output proj + input
        XCTAssertEqual(loaded.module.ops[15].operands, [.value("11"), .value("8")])  // residual: FFN out + first norm
        XCTAssertEqual(loaded.module.ops[13].type, ValueType(.f32, [.batch, .seq, .fixed(6)]))
        // The printed IR parses back to the same module.
        let text = IRPrinter.print(loaded.module)
        XCTAssertTrue(text.contains("%1 = layer_norm %0, @embeddings.LayerNorm.weight, @embeddings.LayerNorm.bias {eps = 1e-12} : f32[B, S, 4]"), text)
        XCTAssertEqual(try IRParser.parse(text), loaded.module)
    }

    func testLoweringErrors() throws {
        let m = SyntheticModel()
        // Missing tensor.
        try m.write(to: tmp, entries: m.entries().filter { $0.name != "encoder.layer.0.intermediate.dense.bias" })
        assertBertError(["model.safetensors", "missing tensor 'encoder.layer.0.intermediate.dense.bias'"]) {
            _ = try CheckpointLoader.load(path: tmp)
        }
        // Wrong shape names the tensor and both shapes.
        try m.write(to: tmp, entries: m.entries().map { e in
            e.name == "encoder.layer.0.output.dense.weight" ? STWriter.f32(e.name, [4, 5], Array(repeating: 0, count: 20)) : e
        })
        assertBertError(["encoder.layer.0.output.dense.weight", "[4, 5]", "[4, 6]"]) { _ = try CheckpointLoader.load(path: tmp) }
        // An unknown float tensor.
        try m.write(to: tmp, entries: m.entries() + [STWriter.f32("cls.predictions.bias", [8], Array(repeating: 0, count: 8))])
        assertBertError(["unexpected tensor", "cls.predictions.bias"]) { _ = try CheckpointLoader.load(path: tmp) }
        // A required tensor stored with a type bertc does not import.
        try m.write(to: tmp, entries: m.entries().map { e in
            e.name == "embeddings.LayerNorm.bias" ? STWriter.Entry(name: e.name, dtype: "F64", shape: [4], bytes: Array(repeating: 0, count: 32)) : e
        })
        assertBertError(["embeddings.LayerNorm.bias", "F64"]) { _ = try CheckpointLoader.load(path: tmp) }
        // A classifier without pooler weights.
        var c = SyntheticModel()
        c.classifier = true
        c.pooler = false
        try c.write(to: tmp)
        assertBertError(["pooler.dense.weight"]) { _ = try CheckpointLoader.load(path: tmp) }
        // A headless encoder without pooler weights has only last_hidden_state.
        var e = SyntheticModel()
        e.pooler = false
        try e.write(to: tmp)
        let loaded = try CheckpointLoader.load(path: tmp)
        XCTAssertEqual(loaded.module.outputNames, ["last_hidden_state"])
    }

    func testPathForms() throws {
        let m = SyntheticModel()
        let dir = tmp + "/my model!"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try m.write(to: dir)
        XCTAssertEqual(try CheckpointLoader.load(path: dir).module.name, "my_model_")
        XCTAssertEqual(try CheckpointLoader.load(path: dir + "/model.safetensors").module.tensors.count, 5 + 16 + 2)
        // A weight file elsewhere with an explicit config.
        try FileManager.default.moveItem(atPath: dir + "/model.safetensors", toPath: tmp + "/weights.safetensors")
        assertBertError([dir, "no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json"]) { _ = try CheckpointLoader.load(path: dir) }
        let l = try CheckpointLoader.load(path: tmp + "/weights.safetensors", configPath: dir + "/config.json")
        XCTAssertEqual(l.vocab.count, 5)
        assertBertError(["config.json"]) { _ = try CheckpointLoader.load(path: tmp + "/weights.safetensors") }
        assertBertError(["nope", "no such file"]) { _ = try CheckpointLoader.load(path: tmp + "/nope") }
    }

    func testSideFiles() throws {
        // vocab.txt with CRLF line ends, and a vocab that is empty or missing.
        try Data("[PAD]\r\n[UNK]\r\nhé\r\n".utf8).write(to: URL(fileURLWithPath: tmp + "/vocab.txt"))
        XCTAssertEqual(try SideFiles.vocab(path: tmp + "/vocab.txt"), ["[PAD]", "[UNK]", "hé"])
        try Data().write(to: URL(fileURLWithPath: tmp + "/empty.txt"))
        assertBertError(["empty.txt", "empty"]) { _ = try SideFiles.vocab(path: tmp + "/empty.txt") }
        assertBertError(["missing.txt", "missing"]) { _ = try SideFiles.vocab(path: tmp + "/missing.txt") }
        // Pooling modes.
        let pool = tmp + "/1_Pooling"
        try FileManager.default.createDirectory(atPath: pool, withIntermediateDirectories: true)
        func writePool(_ o: [String: Any]) throws {
            try JSONSerialization.data(withJSONObject: o).write(to: URL(fileURLWithPath: pool + "/config.json"))
        }
        try writePool(["pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false])
        XCTAssertEqual(try SideFiles.sentencePipeline(dir: tmp).pooling, "cls")
        try writePool(["pooling_mode_cls_token": false, "pooling_mode_max_tokens": true])
        assertBertError(["1_Pooling", "pooling_mode_max_tokens"]) { _ = try SideFiles.sentencePipeline(dir: tmp) }
        try writePool(["pooling_mode_mean_tokens": true])
        let modules: [[String: Any]] = [
            ["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
            ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
            ["idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"],
        ]
        try JSONSerialization.data(withJSONObject: modules).write(to: URL(fileURLWithPath: tmp + "/modules.json"))
        let p = try SideFiles.sentencePipeline(dir: tmp)
        XCTAssertEqual(p.pooling, "mean")
        XCTAssertTrue(p.normalize)
        // Tokenizer settings: defaults, then explicit values.
        let d = try SideFiles.tokenizerSettings(dir: tmp)
        XCTAssertTrue(d.doLowerCase)
        XCTAssertNil(d.stripAccents)
        try Data(#"{"do_lower_case": false, "strip_accents": true, "tokenize_chinese_chars": false}"#.utf8)
            .write(to: URL(fileURLWithPath: tmp + "/tokenizer_config.json"))
        let t = try SideFiles.tokenizerSettings(dir: tmp)
        XCTAssertFalse(t.doLowerCase)
        XCTAssertEqual(t.stripAccents, true)
        XCTAssertFalse(t.tokenizeChineseChars)
    }
}
