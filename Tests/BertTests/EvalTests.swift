import Foundation
import XCTest

@testable import BertDriver

/// `bertrun --eval`: metrics on hand-worked confusion matrices, label mapping, the progress line, and end-to-end
/// runs on labelled fixtures whose expected metrics come from transformers' predictions
/// (fixtures/eval/, written by tools/make_eval_fixture.py).
final class EvalTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func matrix(_ labels: [String], truth: [Int], predicted: [Int]) -> ConfusionMatrix {
        var m = ConfusionMatrix(labels: labels)
        for (t, p) in zip(truth, predicted) { m.add(truth: t, predicted: p) }
        return m
    }

    // MARK: metrics by hand

    /// tn 50, fp 10, fn 5, tp 35: accuracy 85/100; F1 = 2·35 / (2·35 + 10 + 5) = 70/85;
    /// MCC = (35·50 − 10·5) / sqrt((35+10)(35+5)(50+10)(50+5)) = 1700 / sqrt(5,940,000).
    func testBinaryMetrics() {
        let m = ClassificationMetrics(ConfusionMatrix(labels: ["neg", "pos"], counts: [[50, 10], [5, 35]]))
        XCTAssertEqual(m.accuracy, 0.85, accuracy: 1e-15)
        XCTAssertEqual(m.positiveLabel, "pos")
        XCTAssertEqual(m.f1, 70.0 / 85.0, accuracy: 1e-15)
        XCTAssertEqual(m.perClass[1].precision, 35.0 / 45.0, accuracy: 1e-15)
        XCTAssertEqual(m.perClass[1].recall, 35.0 / 40.0, accuracy: 1e-15)
        let mcc: Double = 1700.0 / (5_940_000.0).squareRoot()
        XCTAssertEqual(m.mcc, mcc, accuracy: 1e-15)
    }

    /// scikit-learn's matthews_corrcoef example: y_true = [+1, +1, +1, −1], y_pred = [+1, −1, +1, +1] gives −1/3
    /// (tp 2, fn 1, fp 1, tn 0: (2·0 − 1·1) / sqrt(3·3·1·1)). Labels in id order: [−1, +1].
    func testMCCOfScikitLearnExample() {
        let m = ClassificationMetrics(matrix(["-1", "+1"], truth: [1, 1, 1, 0], predicted: [1, 0, 1, 1]))
        XCTAssertEqual(m.mcc, -1.0 / 3.0, accuracy: 1e-15)
        XCTAssertEqual(m.accuracy, 0.5)
        XCTAssertEqual(m.f1, 4.0 / 6.0, accuracy: 1e-15)  // 2·tp / (2·tp + fp + fn), tp 2, fp 1, fn 1
    }

    /// scikit-learn's confusion_matrix example: y_true = [2, 0, 2, 2, 0, 1], y_pred = [0, 0, 2, 2, 0, 2] gives
    /// [[2, 0, 0], [0, 0, 1], [1, 0, 2]]. Accuracy 4/6. Per-class F1 2tp/(t+p): class 0: 4/5; class 1: 0/1 = 0;
    /// class 2: 4/6; macro (4/5 + 0 + 2/3)/3. MCC: s 6, c 4, t = (2, 1, 3), p = (3, 0, 3):
    /// (4·6 − (6 + 0 + 9)) / sqrt((36 − 18)(36 − 14)) = 9 / sqrt(396).
    func testThreeClassMetrics() {
        let m = ClassificationMetrics(matrix(["a", "b", "c"], truth: [2, 0, 2, 2, 0, 1], predicted: [0, 0, 2, 2, 0, 2]))
        XCTAssertEqual(m.matrix.counts, [[2, 0, 0], [0, 0, 1], [1, 0, 2]])
        XCTAssertEqual(m.accuracy, 4.0 / 6.0, accuracy: 1e-15)
        XCTAssertNil(m.positiveLabel)
        let macro: Double = (0.8 + 0 + 2.0 / 3.0) / 3.0
        XCTAssertEqual(m.f1, macro, accuracy: 1e-15)
        let mcc: Double = 9.0 / (396.0).squareRoot()
        XCTAssertEqual(m.mcc, mcc, accuracy: 1e-15)
        XCTAssertEqual(m.perClass.map(\.support), [2, 1, 3])
        XCTAssertEqual(m.perClass.map(\.predicted), [3, 0, 3])
    }

    /// A label neither true nor predicted is left out of the macro F1; one predicted class only: MCC 0.
    func testDegenerateCases() {
        // Labels a, b, c, d; d never occurs. F1 = 2tp/(t+p): a = 2·1/(1+2) = 2/3, b = 2·1/(2+2) = 1/2,
        // c = 0 (true 1, predicted 0); macro over a, b, c.
        let m = ClassificationMetrics(matrix(["a", "b", "c", "d"], truth: [0, 1, 1, 2], predicted: [0, 1, 0, 1]))
        let macro: Double = (2.0 / 3.0 + 0.5) / 3.0
        XCTAssertEqual(m.f1, macro, accuracy: 1e-15)
        let one = ClassificationMetrics(matrix(["x", "y"], truth: [0, 1, 1], predicted: [1, 1, 1]))
        XCTAssertEqual(one.mcc, 0)
        XCTAssertEqual(one.f1, 4.0 / 5.0, accuracy: 1e-15)  // class y: tp 2, fp 1, fn 0
        XCTAssertEqual(one.perClass[0].precision, 0)
    }

    func testLabelNamesAndIds() {
        let labels = ["rotten", "fresh"]
        XCTAssertEqual(Evaluation.classId("fresh", labels: labels), 1)
        XCTAssertEqual(Evaluation.classId("0", labels: labels), 0)
        XCTAssertEqual(Evaluation.classId("1.0", labels: labels), 1)
        for bad in ["Fresh", "2", "-1", "0.5", "", " fresh"] { XCTAssertNil(Evaluation.classId(bad, labels: labels), bad) }
        // A label name that looks like a number is a name first.
        XCTAssertEqual(Evaluation.classId("1", labels: ["1", "0"]), 0)
    }

    func testProgressLine() {
        // 512 of 1000 in 10 s: 15 of 30 cells, 51.2 rows/s, 488 rows left = 9.53 s -> 10 s.
        XCTAssertEqual(Progress.line(done: 512, total: 1000, seconds: 10),
                       "[" + String(repeating: "=", count: 15) + ">" + String(repeating: " ", count: 14) + "]  512/1000 rows  51.2 rows/s  eta 10s")
        XCTAssertEqual(Progress.line(done: 64, total: 64, seconds: 2), "[" + String(repeating: "=", count: 30) + "] 64/64 rows  32.0 rows/s")
        XCTAssertNil(Progress(total: 1000, terminal: false))
        XCTAssertNil(Progress(total: 63, terminal: true))
        XCTAssertNotNil(Progress(total: 64, terminal: true))
    }

    // MARK: end to end against transformers' predictions

    func compile(_ model: String) throws -> String {
        let out = tmp + "/" + model + ".bin"
        _ = try Compiler.compile(model: TestPaths.fixture("models/" + model), output: out)
        return out
    }

    func checkRun(model: String, input: String, expected: String, f1Average: String) throws {
        let artifact = try compile(model)
        let metrics = tmp + "/metrics.json", lines = tmp + "/lines.jsonl"
        let r = try runTool("bertrun", [artifact, "--input", TestPaths.fixture(input), "--eval", "--metrics", metrics,
                                        "--output", lines, "--batch-size", "5"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.err, "")
        let want = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(expected)))) as! [String: Any]
        let got = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as! [String: Any]
        XCTAssertEqual(got["rows"] as? Int, want["rows"] as? Int)
        XCTAssertEqual(got["correct"] as? Int, want["correct"] as? Int)
        XCTAssertEqual(got["labels"] as? [String], want["labels"] as? [String])
        XCTAssertEqual(got["confusion_matrix"] as? [[Int]], want["confusion_matrix"] as? [[Int]])
        for key in ["accuracy", "f1", "mcc"] {
            XCTAssertEqual((got[key] as! NSNumber).doubleValue, (want[key] as! NSNumber).doubleValue, accuracy: 1e-12, key)
        }
        XCTAssertEqual(got["f1_average"] as? String, f1Average)
        // stdout: the summary, no JSON lines; those are in --output, one per row.
        XCTAssertTrue(r.out.hasPrefix("evaluated \(want["rows"]!) rows of"), r.out)
        XCTAssertTrue(r.out.contains(String(format: "accuracy  %.4f  (%d/%d)", (want["accuracy"] as! NSNumber).doubleValue,
                                            want["correct"] as! Int, want["rows"] as! Int)), r.out)
        XCTAssertFalse(r.out.contains("\"probs\""))
        XCTAssertEqual(try readJSONLines(lines).count, want["rows"] as? Int)
    }

    /// 3 labels, pairs, labels given as names and as JSON numbers: macro F1.
    func testThreeClassRunMatchesTransformersPredictions() throws {
        try checkRun(model: "tiny-classifier", input: "eval/tiny-classifier.jsonl", expected: "eval/tiny-classifier.metrics.json",
                     f1Average: "macro")
    }

    /// 2 labels from a TSV, names and ids: binary F1 of 'fresh'.
    func testBinaryRunMatchesTransformersPredictions() throws {
        try checkRun(model: "tiny-classifier-ft", input: "eval/tiny-classifier-ft.tsv",
                     expected: "eval/tiny-classifier-ft.metrics.json", f1Average: "binary")
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(m["positive_label"] as? String, "fresh")
    }

    // MARK: errors and options

    func write(_ name: String, _ text: String) throws -> String {
        let p = tmp + "/" + name
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    func testLabelErrors() throws {
        let artifact = try compile("tiny-classifier-ft")
        let unknown = try write("unknown.tsv", "text\tlabel\ngood\tfresh\nbad\tsplendid\n")
        let metrics = tmp + "/m.json"
        var r = try runTool("bertrun", [artifact, "--input", unknown, "--eval", "--metrics", metrics])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "bertrun: error: \(unknown): line 3: unknown label 'splendid' (labels: rotten, fresh, or ids 0-1)\n")
        XCTAssertEqual(r.out, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: metrics))

        let noColumn = try write("nolabel.tsv", "text\ngood\n")
        r = try runTool("bertrun", [artifact, "--input", noColumn, "--eval"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("\(noColumn): line 2: has no label"), r.err)

        r = try runTool("bertrun", [artifact, "some text", "--eval"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("a command-line text has no label"), r.err)

        // --skip-bad-lines: the bad row is left out and reported; the metrics cover the rest.
        r = try runTool("bertrun", [artifact, "--input", unknown, "--eval", "--skip-bad-lines"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("evaluated 1 row of"), r.out)
        XCTAssertTrue(r.err.contains("line 3: unknown label 'splendid'"), r.err)
    }

    func testEvalNeedsOneClassifier() throws {
        let encoder = try compile("tiny-encoder")
        let input = TestPaths.fixture("eval/tiny-classifier-ft.tsv")
        var r = try runTool("bertrun", [encoder, "--input", input, "--eval"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.hasPrefix("bertrun: error: \(encoder): --eval needs a classifier"), r.err)
        XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1)
        let classifier = try compile("tiny-classifier-ft")
        r = try runTool("bertrun", [classifier, encoder, "--input", input, "--metrics", tmp + "/m.json"])
        XCTAssertEqual(r.code, 64)
        XCTAssertTrue(r.err.contains("--eval takes one artifact"), r.err)
        r = try runTool("bertrun", [classifier, "--input", input, "--eval", "--metrics", tmp + "/no/such/dir/m.json"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("cannot create"), r.err)
        let help = try runTool("bertrun", ["--help"])
        XCTAssertTrue(help.out.contains("--eval") && help.out.contains("--metrics <file>"), help.out)
    }

    /// 70 rows with stderr a pipe (not a terminal): no progress bar, stderr stays empty.
    func testNoProgressBarWhenStderrIsNotATerminal() throws {
        let artifact = try compile("tiny-classifier-ft")
        let rows = (0..<70).map { "review number \($0)\t\($0 % 2)" }.joined(separator: "\n")
        let input = try write("long.tsv", "text\tlabel\n" + rows + "\n")
        let r = try runTool("bertrun", [artifact, "--input", input, "--eval"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.err, "")
        XCTAssertTrue(r.out.hasPrefix("evaluated 70 rows"), r.out)
    }
}
