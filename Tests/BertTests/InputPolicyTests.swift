import BertIR
import Foundation
import XCTest

@testable import BertDriver

/// bertrun's input policy (InputReader, RunCommand): lines decoded one by one, empty lines skipped,
/// bad lines reported with their number, `--skip-bad-lines` leaving them out with warnings and a count.
final class InputPolicyTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func parse(_ bytes: [UInt8], _ format: InputReader.Format, skip: Bool = false) throws -> InputFile {
        try InputReader.parse(Data(bytes), path: "in", format: format, skipBadLines: skip)
    }

    func parse(_ text: String, _ format: InputReader.Format, skip: Bool = false) throws -> InputFile {
        try parse(Array(text.utf8), format, skip: skip)
    }

    func testEmptyLinesCRLFAndByteOrderMarkAreHandled() throws {
        let tsv = try parse([0xEF, 0xBB, 0xBF] + Array("text\tlabel\r\n\r\na\t1\r\n\nb\t2".utf8), .tsv)
        XCTAssertEqual(tsv.rows.map(\.text), ["a", "b"])
        XCTAssertEqual(tsv.rows.map(\.line), [3, 5])
        XCTAssertEqual(tsv.rows.map(\.label), ["1", "2"])
        let jsonl = try parse("\n  \n{\"text\": \"x\", \"label\": 3, \"text_b\": null}\r\n\t\n{\"text\": \"y\", \"task\": \"t\"}\n", .jsonl)
        XCTAssertEqual(jsonl.rows.map(\.text), ["x", "y"])
        XCTAssertEqual(jsonl.rows.map(\.line), [3, 5])
        XCTAssertEqual(jsonl.rows[0].label, "3")
        XCTAssertNil(jsonl.rows[0].textB)
        XCTAssertEqual(jsonl.rows[1].task, "t")
        XCTAssertTrue(jsonl.bad.isEmpty)
    }

    func testBadLinesAreErrorsWithTheirNumber() {
        let invalidUTF8 = Array("{\"text\": \"ok\"}\n{\"text\": \"".utf8) + [0xC3, 0x28] + Array("\"}\n".utf8)
        assertBertError(["in", "line 2: not valid UTF-8"]) { _ = try parse(invalidUTF8, .jsonl) }
        assertBertError(["line 2: not a JSON object"]) { _ = try parse("{\"text\": \"a\"}\n[1, 2]\n", .jsonl) }
        assertBertError(["line 1: missing key 'text'"]) { _ = try parse("{\"label\": 1}\n", .jsonl) }
        assertBertError(["line 1: missing key 'text'"]) { _ = try parse("{\"text\": null}\n", .jsonl) }
        assertBertError(["line 1: 'text' is not a string"]) { _ = try parse("{\"text\": 5}\n", .jsonl) }
        assertBertError(["line 1: 'text_b' is not a string"]) { _ = try parse("{\"text\": \"a\", \"text_b\": [\"b\"]}\n", .jsonl) }
        assertBertError(["line 1: 'task' is not a string"]) { _ = try parse("{\"text\": \"a\", \"task\": 2}\n", .jsonl) }
        assertBertError(["line 3: 1 fields, header has 2"]) { _ = try parse("text\tlabel\na\t1\nb\n", .tsv) }
        assertBertError(["line 2: 3 fields, header has 2"]) { _ = try parse("text\tlabel\na\t1\t2\n", .tsv) }
        let long = "{\"text\": \"" + String(repeating: "x", count: InputReader.maxLineBytes) + "\"}\n"
        assertBertError(["line 1: line is 1048588 bytes long (at most 1048576)"]) { _ = try parse(long, .jsonl) }
        // The header is never skipped.
        assertBertError(["line 1: header has no 'text' column"]) { _ = try parse("sentence\tlabel\na\t1\n", .tsv, skip: true) }
        assertBertError(["line 1: not valid UTF-8"]) { _ = try parse([0xFF, 0x0A], .tsv, skip: true) }
        assertBertError(["empty file"]) { _ = try parse("", .tsv, skip: true) }
    }

    func testSkipBadLinesKeepsTheGoodOnes() throws {
        let bytes = Array("{\"text\": \"a\"}\n{\"text\": 1}\n".utf8) + [0xFF, 0x0A] + Array("{\"text\": \"b\"}\nnope\n".utf8)
        let f = try parse(bytes, .jsonl, skip: true)
        XCTAssertEqual(f.rows.map(\.text), ["a", "b"])
        XCTAssertEqual(f.rows.map(\.line), [1, 4])
        XCTAssertEqual(f.bad.map(\.text), ["line 2: 'text' is not a string", "line 3: not valid UTF-8", "line 5: not a JSON object"])
    }

    func compileEncoder() throws -> String {
        let model = tmp + "/enc.bin"
        let c = try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", model])
        XCTAssertEqual(c.code, 0, c.err)
        return model
    }

    /// 25 bad lines among 3 good ones: 20 warnings, a line for the rest, a count, exit 0, and the
    /// good rows' outputs equal to running them alone. Without the flag: the first bad line, exit 1.
    func testSkipBadLinesOnTheCommandLine() throws {
        let model = try compileEncoder()
        var lines = ["{\"text\": \"first good line\"}"]
        for i in 0..<25 { lines.append(i % 2 == 0 ? "{\"txt\": \"typo\"}" : "not json") }
        lines += ["", "{\"text\": \"second good line\"}", "{\"text\": \"third\"}"]
        let input = tmp + "/in.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let out = tmp + "/out.jsonl"
        let r = try runTool("bertrun", [model, "--input", input, "--output", out, "--skip-bad-lines"])
        XCTAssertEqual(r.code, 0, r.err)
        let err = r.err.split(separator: "\n").map(String.init)
        XCTAssertEqual(err.count, 22, r.err)
        XCTAssertEqual(err[0], "bertrun: warning: \(input): line 2: missing key 'text'")
        XCTAssertEqual(err[1], "bertrun: warning: \(input): line 3: not a JSON object")
        XCTAssertEqual(err[20], "bertrun: warning: \(input): 5 more bad lines not shown")
        XCTAssertEqual(err[21], "bertrun: note: skipped 25 bad lines")
        let rows = try readJSONLines(out)
        XCTAssertEqual(rows.count, 3)
        for (row, text) in zip(rows, ["first good line", "second good line", "third"]) {
            let alone = try runTool("bertrun", [model, text])
            let expect = try JSONSerialization.jsonObject(with: Data(alone.out.utf8)) as! [String: Any]
            // Batched with rows of other lengths: equal within float rounding, not bit for bit.
            XCTAssertLessThanOrEqual(maxAbsDiff(floats(row["embedding"]), floats(expect["embedding"])), 1e-5, text)
        }
        let strict = try runTool("bertrun", [model, "--input", input, "--output", tmp + "/strict.jsonl"])
        XCTAssertEqual(strict.code, 1)
        XCTAssertEqual(strict.err, "bertrun: error: \(input): line 2: missing key 'text'\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/strict.jsonl"))
    }

    /// Rows naming an unknown task are bad lines too; a file with only bad lines gives empty output.
    func testSkipBadLinesWithSeveralTasksAndNothingLeft() throws {
        let model = try compileEncoder()
        let other = tmp + "/other.bin"
        try FileManager.default.copyItem(atPath: model, toPath: other)
        let input = tmp + "/in.tsv"
        try "text\ttask\na\tenc\nb\tnope\nc\tother\n".write(toFile: input, atomically: true, encoding: .utf8)
        let r = try runTool("bertrun", [model, other, "--input", input, "--skip-bad-lines"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n").count, 2)
        XCTAssertEqual(r.err, "bertrun: warning: \(input): line 3: unknown task 'nope' (tasks: enc, other)\n"
                       + "bertrun: note: skipped 1 bad line\n")
        let bad = tmp + "/bad.jsonl"
        try "{}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let none = try runTool("bertrun", [model, "--input", bad, "--skip-bad-lines", "--output", tmp + "/none.jsonl"])
        XCTAssertEqual(none.code, 0, none.err)
        XCTAssertEqual(try String(contentsOfFile: tmp + "/none.jsonl", encoding: .utf8), "")
        XCTAssertTrue(none.err.hasSuffix("bertrun: note: skipped 1 bad line\n"), none.err)
    }

    /// Texts longer than --max-length tokens are truncated, not refused.
    func testOverLongTextIsTruncated() throws {
        let model = try compileEncoder()
        let long = String(repeating: "the movie was good ", count: 200)
        let r = try runTool("bertrun", [model, long, "--max-length", "16"])
        XCTAssertEqual(r.code, 0, r.err)
        let cut = try runTool("bertrun", [model, String(repeating: "the movie was good ", count: 4), "--max-length", "16"])
        XCTAssertEqual(r.out, cut.out, "only the first 16 tokens count")
    }
}
