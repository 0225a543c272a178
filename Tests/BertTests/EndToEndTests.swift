import BertArtifact
import BertIR
import BertRuntime
import Foundation
import XCTest

@testable import BertDriver

/// Compile the committed tiny checkpoints and run them; compare with transformers' reference outputs
/// (fixtures/reference/*.jsonl, written by tools/make_fixtures.py).
final class EndToEndTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func compile(_ model: String, base: String? = nil) throws -> (String, CompileSummary) {
        let out = tmp + "/" + URL(fileURLWithPath: model).lastPathComponent + (base == nil ? "" : "-over-base") + ".bin"
        let summary = try Compiler.compile(model: model, base: base, output: out)
        return (out, summary)
    }

    /// Token ids exactly, every hidden state, pooler output and logits within 1e-5 absolute.
    func checkAgainstReference(model name: String, hasLogits: Bool) throws {
        let (artifact, _) = try compile(TestPaths.fixture("models/" + name))
        let task = try LoadedTask.load(path: artifact, baseOverride: nil, threads: 2, verify: true)
        let cases = try readJSONLines(TestPaths.fixture("reference/\(name).jsonl"))
        XCTAssertGreaterThanOrEqual(cases.count, 25)
        for (i, c) in cases.enumerated() {
            let text = c["text"] as? String ?? ""
            let pair = c["text_b"] as? String
            let maxLength = (c["max_length"] as? Int) ?? task.metadata.maxPosition
            let enc = task.tokenizer.encode(text, pair: pair, maxLength: maxLength)
            XCTAssertEqual(enc.ids, ints(c["input_ids"]), "case \(i) ids: \(text.debugDescription)")
            XCTAssertEqual(enc.typeIds, ints(c["token_type_ids"]), "case \(i) type ids")
            let out = try task.engine.run(Batch(rows: [(ints(c["input_ids"]), ints(c["token_type_ids"]))]))
            let hidden = Array(out.values["last_hidden_state"]!.buffer)
            XCTAssertLessThanOrEqual(maxAbsDiff(hidden, floats(c["last_hidden_state"])), 1e-5, "case \(i) hidden")
            XCTAssertLessThanOrEqual(maxAbsDiff(out.row("pooler_output", 0) ?? [], floats(c["pooler_output"])), 1e-5,
                                     "case \(i) pooler")
            if hasLogits {
                XCTAssertLessThanOrEqual(maxAbsDiff(out.row("logits", 0) ?? [], floats(c["logits"])), 1e-5, "case \(i) logits")
            }
        }
    }

    func testTinyEncoderMatchesTransformers() throws { try checkAgainstReference(model: "tiny-encoder", hasLogits: false) }
    func testTinyClassifierMatchesTransformers() throws { try checkAgainstReference(model: "tiny-classifier", hasLogits: true) }

    /// Mean pooling from the sentence-transformers config, against the reference mean embedding.
    func testEncoderPoolingFollowsSentenceTransformersConfig() throws {
        let (artifact, _) = try compile(TestPaths.fixture("models/tiny-encoder"))
        let task = try LoadedTask.load(path: artifact, baseOverride: nil, threads: 1, verify: true)
        XCTAssertEqual(task.metadata.pooling, "mean")
        let c = try readJSONLines(TestPaths.fixture("reference/tiny-encoder.jsonl"))[0]
        let enc = task.tokenizer.encode(c["text"] as! String, pair: c["text_b"] as? String, maxLength: 64)
        let out = try task.engine.run(Batch(rows: [(enc.ids, enc.typeIds)]))
        let line = try ResultFormatter(metadata: task.metadata, pooling: nil).line(out, row: 0)
        let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        XCTAssertLessThanOrEqual(maxAbsDiff(floats(obj["embedding"]), floats(c["mean_embedding"])), 1e-5)
    }

    /// Inputs of different lengths batched together give the results of running them one by one.
    func testBatchedEqualsOneByOne() throws {
        let (artifact, _) = try compile(TestPaths.fixture("models/tiny-classifier"))
        let task = try LoadedTask.load(path: artifact, baseOverride: nil, threads: 2, verify: true)
        let texts = ["A", "The movie was great fun", "Terrible.", "An over-long, rambling, and yet somehow charming story about nothing",
                     "ok", "Paris", "What?!", "It is what it is"]
        let encs = texts.map { task.tokenizer.encode($0, pair: nil, maxLength: 40) }
        let batched = try task.engine.run(Batch(rows: encs.map { ($0.ids, $0.typeIds) }))
        for (i, e) in encs.enumerated() {
            let single = try task.engine.run(Batch(rows: [(e.ids, e.typeIds)]))
            XCTAssertLessThanOrEqual(maxAbsDiff(batched.row("logits", i)!, single.row("logits", 0)!), 1e-5, texts[i])
        }
    }

    /// A fine-tune that equals its base except a new head stores only the head.
    func testFineTuneOverBaseStoresOnlyTheHead() throws {
        let base = TestPaths.fixture("models/tiny-encoder")
        let (shared, summary) = try compile(TestPaths.fixture("models/tiny-classifier-ft"), base: base)
        XCTAssertEqual(Set(summary.storedTensors), ["classifier.weight", "classifier.bias"])
        XCTAssertGreaterThan(summary.sharedTensors.count, 20)
        let (full, fullSummary) = try compile(TestPaths.fixture("models/tiny-classifier-ft"))
        XCTAssertTrue(fullSummary.sharedTensors.isEmpty)
        XCTAssertLessThan(summary.bytesWritten * 5, fullSummary.bytesWritten)
        // Same outputs as the self-contained artifact.
        let a = try LoadedTask.load(path: shared, baseOverride: nil, threads: 1, verify: true)
        let b = try LoadedTask.load(path: full, baseOverride: nil, threads: 1, verify: true)
        XCTAssertNil(a.artifact.contents.vocab, "identical vocab is a reference to the base's")
        for text in ["a fresh and funny film", "rotten to the core"] {
            let e = a.tokenizer.encode(text, pair: nil, maxLength: 64)
            XCTAssertEqual(e, b.tokenizer.encode(text, pair: nil, maxLength: 64))
            let x = try a.engine.run(Batch(rows: [(e.ids, e.typeIds)])).row("logits", 0)!
            let y = try b.engine.run(Batch(rows: [(e.ids, e.typeIds)])).row("logits", 0)!
            XCTAssertEqual(x, y)
        }
    }

    /// A base whose fingerprint differs from the recorded one is refused, naming the base.
    func testWrongBaseIsRefused() throws {
        let (artifact, _) = try compile(TestPaths.fixture("models/tiny-classifier-ft"),
                                        base: TestPaths.fixture("models/tiny-encoder"))
        let other = TestPaths.fixture("models/tiny-classifier")
        XCTAssertThrowsError(try LoadedTask.load(path: artifact, baseOverride: other, threads: 1, verify: true)) { e in
            let msg = String(describing: e)
            XCTAssertTrue(msg.contains("fingerprint") && msg.contains("tiny-classifier"), msg)
        }
    }
}
