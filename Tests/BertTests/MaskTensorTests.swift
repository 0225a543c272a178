/// Tests of masks carried as tensors (BertCheckpoint/MaskTensors.swift) on the checkpoints of
/// fixtures/mask-tensors (written by tools/make_mask_tensor_fixtures.py with torch.nn.utils.prune,
/// transformers' save_pretrained, safetensors and torch.save): the imported weights have exactly the
/// fixture's own zeros, compile over tiny-encoder to base plus masks, and run to transformers' outputs;
/// malformed masks, truncated and bit-flipped files give one error naming the file.
import BertArtifact
import BertCheckpoint
import BertIR
import BertRuntime
import Foundation
import XCTest

@testable import BertDriver

final class MaskTensorTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    static let modules = ["attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense", "intermediate.dense", "output.dense"].map { "encoder.layer.1.\($0)" }
    static let weights = modules.map { $0 + ".weight" }

    func fixture(_ rel: String) -> String { TestPaths.fixture("mask-tensors/" + rel) }

    /// The raw entries of a fixture file, read with the plain safetensors reader (not the mask code).
    func entries(_ path: String) throws -> (SafetensorsFile, [String: SafetensorsEntry]) {
        let f = try SafetensorsFile(path: path)
        return (f, Dictionary(uniqueKeysWithValues: f.entries.map { ($0.name, $0) }))
    }

    func floatsOf(_ f: SafetensorsFile, _ e: SafetensorsEntry?, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        guard let e, let b = f.floatBuffer(e) else { XCTFail("missing tensor", file: file, line: line); return [] }
        return Array(b.buffer)
    }

    func bytesOf(_ f: SafetensorsFile, _ e: SafetensorsEntry) -> [UInt8] {
        Array(f.map.bytes((f.dataStart + e.begin)..<(f.dataStart + e.end)))
    }

    /// The base's tensors, by name.
    func base() throws -> [String: [Float]] {
        let (f, es) = try entries(TestPaths.fixture("models/tiny-encoder/model.safetensors"))
        return es.mapValues { Array(f.floatBuffer($0)!.buffer) }
    }

    /// Checks a loaded model: the 6 masked weights are +0.0 exactly where `keep` is false and bitwise the
    /// base's elsewhere; every other tensor is bitwise the base's; no mask tensor survives.
    func checkLoaded(_ model: LoadedModel, keep: [String: [Bool]], label: String) throws {
        let base = try base()
        XCTAssertEqual(Set(model.weights.names), Set(base.keys), label)
        for (name, values) in base {
            let got = Array(model.weights[name]!.buffer)
            XCTAssertEqual(got.count, values.count, "\(label) \(name)")
            guard let k = keep[name] else {
                XCTAssertEqual(got.map(\.bitPattern), values.map(\.bitPattern), "\(label): \(name) unchanged")
                continue
            }
            XCTAssertEqual(k.count, values.count)
            var zeros = 0, wrong = 0
            for i in 0..<min(got.count, k.count) {
                if k[i] { if got[i].bitPattern != values[i].bitPattern { wrong += 1 } }
                else { zeros += 1; if got[i].bitPattern != 0 { wrong += 1 } }
            }
            XCTAssertEqual(wrong, 0, "\(label) \(name): entries differing from base-times-mask (or -0.0)")
            XCTAssertEqual(got.filter { $0 == 0 }.count, zeros, "\(label) \(name): exactly the mask's zeros")
            XCTAssertGreaterThan(zeros, values.count / 4, "\(label) \(name)")
        }
    }

    /// The prune masks as the fixture file holds them (float 0/1 `_mask` tensors).
    func pruneKeep(_ path: String) throws -> [String: [Bool]] {
        let (f, es) = try entries(path)
        var keep: [String: [Bool]] = [:]
        for m in Self.modules {
            let mask = floatsOf(f, es[m + ".weight_mask"])
            XCTAssertTrue(mask.allSatisfy { $0 == 0 || $0 == 1 })
            XCTAssertEqual(floatsOf(f, es[m + ".weight_orig"]).count, mask.count)
            XCTAssertNil(es[m + ".weight"], "save_pretrained writes no plain weight for a pruned module")
            keep[m + ".weight"] = mask.map { $0 == 1 }
        }
        return keep
    }

    // MARK: import

    func testPruneSavePretrainedAppliesWeightMask() throws {
        let keep = try pruneKeep(fixture("prune-pretrained/model.safetensors"))
        // l1_unstructured(amount=0.5): exactly half of each weight pruned.
        XCTAssertEqual(keep["encoder.layer.1.attention.self.query.weight"]!.filter { !$0 }.count, 512)
        XCTAssertEqual(keep["encoder.layer.1.intermediate.dense.weight"]!.filter { !$0 }.count, 592)
        try checkLoaded(try CheckpointLoader.load(path: fixture("prune-pretrained")), keep: keep, label: "prune-pretrained")
    }

    func testPruneStateDictAppliesWeightMask() throws {
        let keep = try pruneKeep(fixture("prune-state-dict/model.safetensors"))
        XCTAssertEqual(keep, try pruneKeep(fixture("prune-pretrained/model.safetensors")))
        try checkLoaded(try CheckpointLoader.load(path: fixture("prune-state-dict/model.safetensors")), keep: keep,
                        label: "prune-state-dict")
    }

    /// The same state dict written by torch.save, when a pytorch_model.bin reader is present.
    func testPruneTorchSaveAppliesWeightMask() throws {
        let bin = fixture("prune-state-dict/pytorch_model.bin")
        guard WeightSources.source(for: bin) != nil else { throw XCTSkip("no pytorch_model.bin reader yet") }
        let keep = try pruneKeep(fixture("prune-state-dict/model.safetensors"))
        try checkLoaded(try CheckpointLoader.load(path: bin), keep: keep, label: "pytorch_model.bin")
    }

    func testNameDotMaskTensorsZeroTheirWeights() throws {
        let (f, es) = try entries(fixture("name-mask/model.safetensors"))
        var keep: [String: [Bool]] = [:]
        for w in Self.weights {
            let e = try XCTUnwrap(es[w + ".mask"])
            XCTAssertEqual(e.dtype, w.contains("query") ? .bool : .u8)
            let bytes = bytesOf(f, e)
            XCTAssertTrue(bytes.allSatisfy { $0 <= 1 })
            keep[w] = bytes.map { $0 == 1 }
            // The weight beside it is stored unmasked.
            XCTAssertFalse(floatsOf(f, es[w]).contains(0))
        }
        XCTAssertEqual(keep, try pruneKeep(fixture("prune-pretrained/model.safetensors")), "the same l1 masks")
        try checkLoaded(try CheckpointLoader.load(path: fixture("name-mask")), keep: keep, label: "name-mask")
    }

    func testMovementScoresKeepAboveThreshold() throws {
        let (f, es) = try entries(fixture("movement/model.safetensors"))
        var scores: [String: [Float]] = [:]
        for m in Self.modules { scores[m + ".weight"] = floatsOf(f, es[m + ".mask_scores"]) }
        try checkLoaded(try CheckpointLoader.load(path: fixture("movement")),
                        keep: scores.mapValues { $0.map { $0 > 0 } }, label: "movement default")
        try checkLoaded(try CheckpointLoader.load(path: fixture("movement"), maskThreshold: 0.5),
                        keep: scores.mapValues { $0.map { $0 > 0.5 } }, label: "movement 0.5")
        // Movement keeps 488 of the query's 1024 entries (tools/make_mask_tensor_fixtures.py's output).
        XCTAssertEqual(scores["encoder.layer.1.attention.self.query.weight"]!.filter { $0 > 0 }.count, 488)
    }

    // MARK: compile and run

    /// Compiles `folder` over tiny-encoder: the 6 masked weights are stored as masks, all else shared; the
    /// outputs match transformers' on the masked model within 1e-5.
    func compileAndRun(_ folder: String, reference: String) throws {
        let out = tmp + "/\(folder.replacingOccurrences(of: "/", with: "_")).bin"
        let summary = try Compiler.compile(model: fixture(folder), base: TestPaths.fixture("models/tiny-encoder"),
                                           output: out)
        XCTAssertEqual(Set(summary.storedTensors), Set(Self.weights), folder)
        let task = try LoadedTask.load(path: out, baseOverride: nil, threads: 2, verify: true)
        for w in Self.weights {
            let d = try XCTUnwrap(task.artifact.contents.module.tensor(named: w))
            XCTAssertEqual(d.storage, .mask, "\(folder) \(w)")
        }
        let cases = try readJSONLines(fixture(reference))
        XCTAssertEqual(cases.count, 8)
        for (i, c) in cases.enumerated() {
            let ids = ints(c["input_ids"]), types = ints(c["token_type_ids"])
            let enc = task.tokenizer.encode(c["text"] as? String ?? "", pair: c["text_b"] as? String,
                                            maxLength: (c["max_length"] as? Int) ?? 64)
            XCTAssertEqual(enc.ids, ids, "\(folder) case \(i) ids")
            let r = try task.engine.run(Batch(rows: [(ids, types)]))
            XCTAssertLessThanOrEqual(maxAbsDiff(Array(r.values["last_hidden_state"]!.buffer), floats(c["last_hidden_state"])),
                                     1e-5, "\(folder) case \(i) hidden")
            XCTAssertLessThanOrEqual(maxAbsDiff(r.row("pooler_output", 0) ?? [], floats(c["pooler_output"])), 1e-5,
                                     "\(folder) case \(i) pooler")
        }
    }

    func testPrunedFoldersCompileToMasksAndMatchTransformers() throws {
        try compileAndRun("prune-pretrained", reference: "prune.jsonl")
        try compileAndRun("prune-state-dict", reference: "prune.jsonl")
        try compileAndRun("name-mask", reference: "prune.jsonl")
    }

    func testMovementCompilesToMasksAndMatchesTransformers() throws {
        try compileAndRun("movement", reference: "movement.jsonl")
    }

    /// The masks matter: the unmasked model is far from the masked references.
    func testReferencesDifferFromTheUnmaskedModel() throws {
        let out = tmp + "/plain.bin"
        _ = try Compiler.compile(model: TestPaths.fixture("models/tiny-encoder"), output: out)
        let task = try LoadedTask.load(path: out, baseOverride: nil, threads: 1, verify: true)
        for ref in ["prune.jsonl", "movement.jsonl"] {
            let c = try readJSONLines(fixture(ref))[0]
            let r = try task.engine.run(Batch(rows: [(ints(c["input_ids"]), ints(c["token_type_ids"]))]))
            XCTAssertGreaterThan(maxAbsDiff(Array(r.values["last_hidden_state"]!.buffer), floats(c["last_hidden_state"])), 0.1)
        }
    }

    /// `bertc compile --mask-threshold` reaches the loader; a bad value is a usage error.
    func testMaskThresholdOption() throws {
        let a = tmp + "/a.bin", b = tmp + "/b.bin"
        let r = try runTool("bertc", ["compile", fixture("movement"), "--base", TestPaths.fixture("models/tiny-encoder"),
                                      "--mask-threshold", "0.5", "-o", a])
        XCTAssertEqual(r.code, 0, r.err)
        let s = try Compiler.compile(model: fixture("movement"), base: TestPaths.fixture("models/tiny-encoder"),
                                     output: b, maskThreshold: 0.5)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)).count, s.bytesWritten)
        let bad = try runTool("bertc", ["compile", fixture("movement"), "--mask-threshold", "lots", "-o", a])
        XCTAssertEqual(bad.code, 64, bad.err)
    }

    // MARK: errors

    /// A model folder in tmp: tiny-encoder's side files and `entries` as model.safetensors.
    func folder(_ name: String, _ entries: [STWriter.Entry]) throws -> String {
        let dir = tmp + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["config.json", "vocab.txt"] {
            try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-encoder/" + f), toPath: dir + "/" + f)
        }
        try Data(STWriter.encode(entries)).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        return dir
    }

    /// tiny-encoder's tensors, with `change` applied to the dictionary of entries.
    func variant(_ name: String, _ change: (inout [String: STWriter.Entry]) -> Void) throws -> String {
        let (f, es) = try entries(TestPaths.fixture("models/tiny-encoder/model.safetensors"))
        var all: [String: STWriter.Entry] = [:]
        for (n, e) in es { all[n] = STWriter.Entry(name: n, dtype: "F32", shape: e.shape, bytes: bytesOf(f, e)) }
        change(&all)
        return try folder(name, all.values.sorted { $0.name < $1.name })
    }

    func assertFault(_ dir: String, _ words: [String], line: UInt = #line) {
        XCTAssertThrowsError(try CheckpointLoader.load(path: dir), line: line) { e in
            guard let b = e as? BertError else { return XCTFail("not a BertError: \(e)", line: line) }
            XCTAssertEqual(b.file, dir + "/model.safetensors", line: line)
            XCTAssertFalse(b.description.contains("\n"), line: line)
            for w in words { XCTAssertTrue(b.message.contains(w), "\(b)", line: line) }
        }
    }

    static let q = "encoder.layer.1.attention.self.query.weight"

    func testMaskOfAnotherShapeIsRefused() throws {
        assertFault(try variant("shape-u8") { $0[Self.q + ".mask"] = .init(name: Self.q + ".mask", dtype: "U8", shape: [32, 31],
                                                                             bytes: [UInt8](repeating: 1, count: 992)) },
                    ["shape", Self.q + ".mask", "[32, 31]"])
        assertFault(try variant("shape-orig") { t in
            t[Self.q + "_orig"] = .init(name: Self.q + "_orig", dtype: "F32", shape: [32, 32], bytes: t[Self.q]!.bytes)
            t[Self.q] = nil
            t[Self.q + "_mask"] = STWriter.f32(Self.q + "_mask", [1024], [Float](repeating: 1, count: 1024))
        }, ["shape", "[1024]"])
        assertFault(try variant("shape-scores") { t in
            let n = "encoder.layer.1.attention.self.query.mask_scores"
            t[n] = STWriter.f32(n, [32, 16], [Float](repeating: 1, count: 512))
        }, ["mask_scores", "shape"])
    }

    func testMaskValueOtherThanZeroOrOneIsRefused() throws {
        assertFault(try variant("value-u8") { t in
            var bytes = [UInt8](repeating: 1, count: 1024); bytes[77] = 2
            t[Self.q + ".mask"] = .init(name: Self.q + ".mask", dtype: "U8", shape: [32, 32], bytes: bytes)
        }, ["other than 0/1", "77"])
        assertFault(try variant("value-f32") { t in
            var v = [Float](repeating: 0, count: 1024); v[5] = 0.5
            t[Self.q + "_mask"] = STWriter.f32(Self.q + "_mask", [32, 32], v)
        }, ["other than 0/1", "index 5"])
        assertFault(try variant("value-i64") { t in
            var bytes = [UInt8](repeating: 0, count: 8192); bytes[8 * 3 + 1] = 1  // 256
            t[Self.q + ".mask"] = .init(name: Self.q + ".mask", dtype: "I64", shape: [32, 32], bytes: bytes)
        }, ["other than 0/1", "index 3"])
        assertFault(try variant("value-nan") { t in
            var v = [Float](repeating: 1, count: 1024); v[9] = .nan
            t[Self.q + ".mask"] = STWriter.f32(Self.q + ".mask", [32, 32], v)
        }, ["other than 0/1"])
    }

    func testOrigWithoutMaskIsRefused() throws {
        assertFault(try variant("orig-alone") { t in
            t[Self.q + "_orig"] = .init(name: Self.q + "_orig", dtype: "F32", shape: [32, 32], bytes: t[Self.q]!.bytes)
            t[Self.q] = nil
        }, ["'\(Self.q)_orig' has no mask"])
        assertFault(try variant("mask-alone") { t in
            t[Self.q + "_mask"] = STWriter.f32(Self.q + "_mask", [32, 32], [Float](repeating: 1, count: 1024))
            t[Self.q] = nil
        }, ["has no tensor"])
        assertFault(try variant("scores-alone") { t in
            let n = "encoder.layer.1.attention.self.query.mask_scores"
            t[n] = STWriter.f32(n, [32, 32], [Float](repeating: 1, count: 1024))
            t[Self.q] = nil
        }, ["mask_scores", "no weight"])
        assertFault(try variant("orig-and-plain") { t in
            t[Self.q + "_orig"] = .init(name: Self.q + "_orig", dtype: "F32", shape: [32, 32], bytes: t[Self.q]!.bytes)
            t[Self.q + "_mask"] = STWriter.f32(Self.q + "_mask", [32, 32], [Float](repeating: 1, count: 1024))
        }, ["beside"])
    }

    /// An all-ones mask leaves the weight bitwise unchanged; a -0.0 in the base stays where the mask keeps it.
    func testAllOnesMaskIsIdentity() throws {
        let dir = try variant("ones") { t in
            t[Self.q + ".mask"] = .init(name: Self.q + ".mask", dtype: "BOOL", shape: [32, 32],
                                        bytes: [UInt8](repeating: 1, count: 1024))
        }
        let m = try CheckpointLoader.load(path: dir)
        try checkLoaded(m, keep: [:], label: "all ones")
    }

    /// Masks in another shard of a sharded checkpoint than their weights are applied too.
    func testMasksInAnotherShard() throws {
        let (f, es) = try entries(TestPaths.fixture("models/tiny-encoder/model.safetensors"))
        let dir = tmp + "/sharded"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["config.json", "vocab.txt"] {
            try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-encoder/" + name), toPath: dir + "/" + name)
        }
        let weights = es.values.sorted { $0.name < $1.name }
            .map { STWriter.Entry(name: $0.name, dtype: "F32", shape: $0.shape, bytes: bytesOf(f, $0)) }
        var mask = [UInt8](repeating: 1, count: 1024)
        for i in stride(from: 0, to: 1024, by: 3) { mask[i] = 0 }
        let masks = [STWriter.Entry(name: Self.q + ".mask", dtype: "U8", shape: [32, 32], bytes: mask)]
        try Data(STWriter.encode(weights)).write(to: URL(fileURLWithPath: dir + "/model-00001-of-00002.safetensors"))
        try Data(STWriter.encode(masks)).write(to: URL(fileURLWithPath: dir + "/model-00002-of-00002.safetensors"))
        var map = Dictionary(uniqueKeysWithValues: weights.map { ($0.name, "model-00001-of-00002.safetensors") })
        map[Self.q + ".mask"] = "model-00002-of-00002.safetensors"
        let index = try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": map])
        try index.write(to: URL(fileURLWithPath: dir + "/model.safetensors.index.json"))
        try checkLoaded(try CheckpointLoader.load(path: dir), keep: [Self.q: mask.map { $0 == 1 }], label: "sharded")
    }

    // MARK: hostile copies

    /// Loads `path` (a model.safetensors in a folder): success or a one-line BertError naming it, never a crash.
    func loadOrFault(_ dir: String) -> BertError? {
        do { _ = try CheckpointLoader.load(path: dir); return nil } catch let e as BertError {
            XCTAssertEqual(e.file, dir + "/model.safetensors", "\(e)")
            XCTAssertFalse(e.description.contains("\n"))
            return e
        } catch { XCTFail("not a BertError: \(error)"); return nil }
    }

    func copyFolder(_ folder: String, _ name: String, bytes: [UInt8]) throws -> String {
        let dir = tmp + "/" + name
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["config.json", "vocab.txt"] {
            try FileManager.default.copyItem(atPath: fixture(folder + "/" + f), toPath: dir + "/" + f)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        return dir
    }

    func testTruncatedCopiesGiveErrorsNamingTheFile() throws {
        for folder in ["prune-pretrained", "prune-state-dict", "name-mask", "movement"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture(folder + "/model.safetensors"))))
            var cuts = [0, 1, 7, 8, 9, 100, bytes.count / 2, bytes.count - 1]
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<8 { cuts.append(Int.random(in: 0..<bytes.count, using: &rng)) }
            for cut in cuts {
                let dir = try copyFolder(folder, "trunc", bytes: Array(bytes[0..<cut]))
                XCTAssertNotNil(loadOrFault(dir), "\(folder) cut at \(cut) loaded")
            }
        }
    }

    func testBitFlippedCopiesGiveErrorsNamingTheFile() throws {
        for folder in ["prune-pretrained", "prune-state-dict", "name-mask", "movement"] {
            let path = fixture(folder + "/model.safetensors")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
            var positions = [0, 3, 8, 9, headerEnd - 1] + (0..<24).map { _ in Int.random(in: 8..<headerEnd) }
            positions += (0..<12).map { _ in Int.random(in: headerEnd..<bytes.count) }
            for p in positions {
                for bit in [0, 5, 7] {
                    var copy = bytes
                    copy[p] ^= UInt8(1 << bit)
                    _ = loadOrFault(try copyFolder(folder, "flip", bytes: copy))
                }
            }
        }
        // A flipped bit inside a mask's data is a value other than 0/1 (float 1.0 -> 1.0000001; uint8 1 -> 3).
        for (folder, mask) in [("prune-pretrained", Self.q + "_mask"), ("name-mask", "encoder.layer.1.attention.self.key.weight.mask")] {
            let path = fixture(folder + "/model.safetensors")
            let (f, es) = try entries(path)
            let e = try XCTUnwrap(es[mask])
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let start = f.dataStart + e.begin
            let data = Array(bytes[start..<(f.dataStart + e.end)])
            // The first element holding 1 (its first byte for uint8, the lowest mantissa byte for float 1.0).
            let step = e.dtype == .f32 ? 4 : 1
            let first = stride(from: 0, to: data.count, by: step).first { data[$0 + step - 1] != 0 }!
            bytes[start + first] ^= 0x02
            let err = loadOrFault(try copyFolder(folder, "flip-mask", bytes: bytes))
            XCTAssertTrue(err?.message.contains("other than 0/1") ?? false, "\(folder): \(String(describing: err))")
        }
    }
}
