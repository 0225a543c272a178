import BertRuntime
import Foundation
import XCTest

@testable import BertDriver

/// The real task: fixtures/rt/rt-mask.bin (a mask fine-tune of all-MiniLM-L6-v2 on Rotten Tomatoes, made by
/// tools/finetune.py mask and compiled with --base) run over the fetched base on the committed dev set, against
/// transformers on the same fine-tune (fixtures/rt/reference_mask.json, written by tools/eval_rt_transformers.py:
/// the label of every dev row, the logits of the first 50). The whole dev set (1,000 rows) is checked by
/// tools/rt_measure.py; the tests take the first rows to stay fast in debug builds.
final class RottenTomatoesTests: XCTestCase {
    static let engineRows = 320
    static let cliRows = 64

    struct Reference {
        let predictions: [String]
        let logits: [[Float]]
        let correct: Int
        let accuracy: Double
    }

    func reference() throws -> Reference {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("rt/reference_mask.json")))
        let obj = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return Reference(predictions: obj["predictions"] as! [String], logits: (obj["logits"] as! [[NSNumber]]).map { $0.map(\.floatValue) },
                         correct: (obj["correct"] as! NSNumber).intValue, accuracy: (obj["accuracy"] as! NSNumber).doubleValue)
    }

    func devRows() throws -> [InputRow] { try InputReader.read(path: TestPaths.fixture("rt/dev.tsv"), format: .tsv).rows }

    /// Rows whose gold label equals transformers' predicted label.
    func correct(_ rows: ArraySlice<InputRow>, _ predictions: [String]) -> Int {
        zip(rows, predictions).filter { $0.0.label == $0.1 }.count
    }

    /// The committed reference agrees with itself: its predictions against the gold labels give its accuracy.
    func testReferenceAccuracyIsItsPredictionsAgainstGoldLabels() throws {
        let ref = try reference(), rows = try devRows()
        XCTAssertEqual(rows.count, 1000)
        XCTAssertEqual(ref.predictions.count, rows.count)
        XCTAssertEqual(correct(rows[...], ref.predictions), ref.correct)
        XCTAssertEqual(Double(ref.correct) / Double(rows.count), ref.accuracy, accuracy: 1e-12)
    }

    /// The engine: labels equal transformers' on the first rows, logits within 1e-4 on the first 50.
    func testMaskTaskMatchesTransformersOnDevRows() throws {
        guard let base = TestPaths.miniLM else {
            XCTFail("all-MiniLM-L6-v2 not found: run tools/fetch_minilm.sh (or set BERTC_MINILM_DIR)")
            return
        }
        let ref = try reference()
        let rows = Array(try devRows().prefix(Self.engineRows))
        let task = try LoadedTask.load(path: TestPaths.fixture("rt/rt-mask.bin"), baseOverride: base, threads: 2, verify: true)
        XCTAssertEqual(task.metadata.id2label ?? [], ["rotten", "fresh"])
        let formatter = ResultFormatter(metadata: task.metadata, pooling: nil)
        var predicted: [String] = []
        var worst: Float = 0
        for start in stride(from: 0, to: rows.count, by: 32) {
            let chunk = Array(rows[start..<min(start + 32, rows.count)])
            let encs = chunk.map { task.tokenizer.encode($0.text, pair: nil, maxLength: 512) }
            let outs = try task.engine.run(Batch(rows: encs.map { ($0.ids, $0.typeIds) }))
            for i in chunk.indices {
                let obj = try JSONSerialization.jsonObject(with: Data(try formatter.line(outs, row: i).utf8)) as! [String: Any]
                predicted.append(obj["label"] as! String)
                if start + i < ref.logits.count {
                    let d = maxAbsDiff(floats(obj["logits"]), ref.logits[start + i])
                    worst = max(worst, d)
                    XCTAssertLessThanOrEqual(d, 1e-4, "row \(start + i + 1): \(chunk[i].text)")
                }
            }
        }
        let disagreeing = predicted.indices.filter { predicted[$0] != ref.predictions[$0] }
        XCTAssertEqual(disagreeing, [], "dev rows (0-based) whose bertrun label differs from transformers'")
        XCTAssertEqual(correct(rows[...], predicted), correct(rows[...], ref.predictions))
        print("Rotten Tomatoes mask task: first \(rows.count) dev rows labelled as transformers does; first "
              + "\(ref.logits.count) logits within \(worst)")
    }

    /// The demo path: `bertrun fixtures/rt/rt-mask.bin --base BASE --input rows.tsv --eval --metrics m.json`
    /// reports the accuracy transformers' labels give on those rows.
    func testBertrunEvalOnFetchedBase() throws {
        guard let base = TestPaths.miniLM else {
            XCTFail("all-MiniLM-L6-v2 not found: run tools/fetch_minilm.sh (or set BERTC_MINILM_DIR)")
            return
        }
        let ref = try reference()
        let tmp = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let lines = try String(contentsOfFile: TestPaths.fixture("rt/dev.tsv"), encoding: .utf8).components(separatedBy: "\n")
        let input = tmp + "/rows.tsv", metrics = tmp + "/metrics.json"
        try (lines.prefix(Self.cliRows + 1).joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let r = try runTool("bertrun", [TestPaths.fixture("rt/rt-mask.bin"), "--base", base, "--input", input,
                                        "--eval", "--metrics", metrics, "--threads", "2"])
        XCTAssertEqual(r.code, 0, r.err)
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as! [String: Any]
        let rows = try devRows().prefix(Self.cliRows)
        let expected = correct(rows, Array(ref.predictions.prefix(Self.cliRows)))
        XCTAssertEqual((m["rows"] as! NSNumber).intValue, Self.cliRows)
        XCTAssertEqual((m["correct"] as! NSNumber).intValue, expected)
        XCTAssertEqual((m["accuracy"] as! NSNumber).doubleValue, Double(expected) / Double(Self.cliRows), accuracy: 1e-12)
    }
}
