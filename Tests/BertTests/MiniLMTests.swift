import BertRuntime
import BertSparse
import Foundation
import XCTest

@testable import BertDriver

/// The real all-MiniLM-L6-v2 (fetched by tools/fetch_minilm.sh): bertrun's sentence embeddings
/// against transformers' for 200+ sentences (fixtures/minilm/embeddings.jsonl).
final class MiniLMTests: XCTestCase {
    func testEmbeddingsMatchTransformers() throws {
        guard let model = TestPaths.miniLM else {
            XCTFail("all-MiniLM-L6-v2 not found: run tools/fetch_minilm.sh (or set BERTC_MINILM_DIR)")
            return
        }
        let tmp = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let out = tmp + "/minilm.bin"
        _ = try Compiler.compile(model: model, output: out)
        let task = try LoadedTask.load(path: out, baseOverride: nil, threads: 2, verify: true)
        XCTAssertEqual(task.metadata.pooling, "mean")
        XCTAssertTrue(task.metadata.normalize)
        let cases = try readJSONLines(TestPaths.fixture("minilm/embeddings.jsonl"))
        XCTAssertGreaterThanOrEqual(cases.count, 200)
        let worst = try compareEmbeddings(task, cases, checkIds: true)
        print("MiniLM: \(cases.count) sentences, worst |diff| = \(worst)")
    }
}

/// The masked MiniLM (10% of entries zeroed in layers 3-5, made by tools/make_minilm_masked.py from
/// the fetched base): artifact size against the masks' entropy bound, outputs against transformers.
final class MaskedMiniLMTests: XCTestCase {
    func testMaskedMiniLMStoresOnlyMasksAndMatchesTransformers() throws {
        guard let base = TestPaths.miniLM else { XCTFail("all-MiniLM-L6-v2 not found: run tools/fetch_minilm.sh"); return }
        let masked = TestPaths.repoRoot.appendingPathComponent(".models/minilm-masked10").path
        guard FileManager.default.fileExists(atPath: masked + "/model.safetensors") else {
            XCTFail("masked MiniLM not found: run tools/make_minilm_masked.py --model-only (tools/test.sh does)"); return
        }
        let tmp = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let out = tmp + "/masked.bin"
        let summary = try Compiler.compile(model: masked, base: base, output: out)
        XCTAssertEqual(summary.storedTensors.count, 18)
        // 18 masks of 10% over [384,384] x 4 + [1536,384] x 2 per layer, layers 3-5 (counts from the generator).
        var bound = 0.0
        for (n, k) in [(147_456, 14_746), (589_824, 58_982)] {
            bound += Double(n == 147_456 ? 12 : 6) * MaskEncoding.entropyBound(count: n, set: k)
        }
        XCTAssertLessThanOrEqual(Double(summary.bytesWritten), 1.2 * bound + 16_384,
                                 "artifact \(summary.bytesWritten) bytes, entropy bound \(Int(bound))")
        print("masked MiniLM artifact: \(summary.bytesWritten) bytes; masks' entropy bound \(Int(bound)) bytes")

        let task = try LoadedTask.load(path: out, baseOverride: nil, threads: 2, verify: true)
        let cases = try readJSONLines(TestPaths.fixture("minilm-masked/embeddings.jsonl"))
        XCTAssertGreaterThanOrEqual(cases.count, 200)
        let worst = try compareEmbeddings(task, cases, checkIds: false)
        print("masked MiniLM: \(cases.count) sentences, worst |diff| = \(worst)")
    }
}

/// Embeds `cases` ({"text", "input_ids", "embedding"}) in batches of 16 as bertrun does and checks each
/// embedding within 1e-4 of the reference (and the token ids when asked); returns the worst difference.
func compareEmbeddings(_ task: LoadedTask, _ cases: [[String: Any]], checkIds: Bool,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Float {
    let formatter = ResultFormatter(metadata: task.metadata, pooling: nil)
    var worst: Float = 0
    for start in stride(from: 0, to: cases.count, by: 16) {
        let chunk = Array(cases[start..<min(start + 16, cases.count)])
        let encs = chunk.map { task.tokenizer.encode($0["text"] as! String, pair: nil, maxLength: 512) }
        if checkIds {
            for (c, e) in zip(chunk, encs) { XCTAssertEqual(e.ids, ints(c["input_ids"]), c["text"] as! String, file: file, line: line) }
        }
        let outs = try task.engine.run(Batch(rows: encs.map { ($0.ids, $0.typeIds) }))
        for (i, c) in chunk.enumerated() {
            let obj = try JSONSerialization.jsonObject(with: Data(try formatter.line(outs, row: i).utf8)) as! [String: Any]
            let d = maxAbsDiff(floats(obj["embedding"]), floats(c["embedding"]))
            worst = max(worst, d)
            XCTAssertLessThanOrEqual(d, 1e-4, c["text"] as! String, file: file, line: line)
        }
    }
    return worst
}
