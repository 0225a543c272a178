import BertDriver
import BertIR
import Foundation
import XCTest

/// Replays every input in fixtures/fuzz-regressions/<target>/ through `FuzzEntry`, the entry point the
/// libFuzzer targets in fuzzing/ call (tools/fuzz.sh), so a crasher found there stays fixed. Each input
/// must be refused with the one-line BertError listed in `expected` (or accepted, when listed as nil);
/// a new file without an entry fails the test until its outcome is written down.
final class FuzzRegressionTests: XCTestCase {
    static let root = TestPaths.fixture("fuzz-regressions")

    /// target/file -> substrings the error must contain (nil: the input is accepted).
    static let expected: [String: [String]?] = [
        "safetensors/header-length-huge.safetensors": ["header length 18446744073709551600 exceeds file size 10"],
        "safetensors/offsets-overlap.safetensors": ["tensor 'b' overlaps tensor 'a'"],
        "safetensors/shape-overflow.safetensors": ["tensor 'a'", "shape entry 4611686018427387904"],
        "tfindex/footer-only.index": ["metaindex block", "lies outside the file"],
        "pytorch/pickle-deep-nesting.pkl": ["legacy (torch < 1.6) pickle"],
        "pytorch/zip-eocd-only.bin": ["no <archive>/data.pkl"],
        "config/heads-not-dividing.json": ["hidden_size 30 is not a multiple of num_attention_heads 4"],
        "config/hidden-size-huge.json": ["hidden_size is not an integer"],
        "vocab/empty.txt": ["vocabulary is empty"],
        "vocab/no-unk.txt": ["no [UNK] token"],
        "artifact/section-table-outside.bin": ["section table (offset 1099511627776", "lies outside the file"],
        "input/invalid-utf8.tsv": ["input.tsv: line 3: not valid UTF-8"],
        "input/not-an-object.jsonl": ["input.jsonl: line 1: not a JSON object"],
        "ir/huge-shape-unterminated.ir": ["fuzz.ir: line 2"],
    ]

    func testEveryRegressionInputGivesItsOutcome() throws {
        let scratch = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var seen = 0
        for target in FuzzEntry.targets {
            let dir = Self.root + "/" + target
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            for name in files {
                let key = target + "/" + name
                let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
                // Anything but acceptance or a BertError escapes `run` and fails the test here.
                let outcome = try data.withUnsafeBytes { try FuzzEntry.run(target, $0, scratch: scratch) }
                guard let want = Self.expected[key] else {
                    XCTFail("\(key): no expected outcome listed (got \(outcome.map { "\($0)" } ?? "accepted"))")
                    continue
                }
                seen += 1
                guard let want else { XCTAssertNil(outcome, key); continue }
                guard let e = outcome else { XCTFail("\(key): accepted, expected an error"); continue }
                XCTAssertFalse(e.description.contains("\n"), "\(key): error is not one line: \(e)")
                for needle in want { XCTAssertTrue(e.description.contains(needle), "\(key): '\(e)' lacks '\(needle)'") }
            }
        }
        XCTAssertEqual(seen, Self.expected.count, "every listed input exists")
        // Every target has at least one regression input, so the mechanism is exercised for each.
        for target in FuzzEntry.targets {
            XCTAssertTrue(Self.expected.keys.contains { $0.hasPrefix(target + "/") }, "no regression input for \(target)")
        }
    }

    /// The artifact inputs through the real CLI: one error line naming the file, exit 1, nothing on stdout.
    func testArtifactRegressionInputsFailCleanlyInBertcDump() throws {
        let dir = Self.root + "/artifact"
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() {
            let path = dir + "/" + name
            let r = try runTool("bertc", ["dump", path])
            XCTAssertEqual(r.code, 1, name)
            XCTAssertEqual(r.out, "", name)
            XCTAssertTrue(r.err.hasPrefix("bertc: error: \(path): "), r.err)
            XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, r.err)
        }
    }
}
