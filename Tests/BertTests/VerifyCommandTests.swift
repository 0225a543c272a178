import Foundation
import XCTest

/// `bertrun --verify`: a report and exit 0 for good artifacts; one error line and exit 1 for a
/// truncated or altered artifact or a base with another fingerprint.
final class VerifyCommandTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    /// The masked encoder compiled over tiny-encoder: shared, mask and csr tensors, a recorded base.
    func compileMasked() throws -> String {
        let out = tmp + "/m90.bin"
        let c = try runTool("bertc", ["compile", TestPaths.fixture("masked/encoder-mask90"),
                                      "--base", TestPaths.fixture("models/tiny-encoder"), "-o", out])
        XCTAssertEqual(c.code, 0, c.err)
        return out
    }

    func testGoodArtifactsAreReported() throws {
        let masked = try compileMasked()
        let plain = tmp + "/cls.bin"
        XCTAssertEqual(try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-classifier"), "-o", plain]).code, 0)
        let r = try runTool("bertrun", ["--verify", masked, plain])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.err, "")
        let lines = r.out.split(separator: "\n").map(String.init)
        let m = lines.filter { $0.hasPrefix(masked + ": ") }.map { String($0.dropFirst(masked.count + 2)) }
        XCTAssertEqual(m.count, 7, r.out)
        XCTAssertTrue(m[0].hasPrefix("header: artifact version 1, "), m[0])
        XCTAssertTrue(m[2].hasPrefix("tensors: 39 (") && m[2].contains(" shared") && m[2].contains(" mask"), m[2])
        XCTAssertTrue(m[4].hasPrefix("base: ") && m[4].contains("tiny-encoder has fingerprint") && m[4].hasSuffix("as recorded"), m[4])
        XCTAssertEqual(m[5], "runtime: weights resolve, 483-token vocabulary, engine ready")
        XCTAssertEqual(m.last, "ok")
        XCTAssertTrue(lines.contains("\(plain): base: none needed"), r.out)
        XCTAssertEqual(lines.last, "\(plain): ok")
    }

    func assertRefused(_ args: [String], _ file: String, _ fault: String, line: UInt = #line) throws {
        let r = try runTool("bertrun", ["--verify"] + args)
        XCTAssertEqual(r.code, 1, r.out + r.err, line: line)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err, line: line)
        XCTAssertTrue(r.err.hasPrefix("bertrun: error: \(file): "), r.err, line: line)
        XCTAssertTrue(r.err.contains(fault), "'\(r.err)' lacks '\(fault)'", line: line)
    }

    func testTruncatedAlteredAndWrongBaseAreRefused() throws {
        let good = try compileMasked()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        let truncated = tmp + "/truncated.bin"
        try Data(bytes.prefix(bytes.count - 100)).write(to: URL(fileURLWithPath: truncated))
        try assertRefused([truncated], truncated, "truncated or damaged")
        // A byte of the last tensor's data (the DATA section ends the file).
        var flipped = bytes
        flipped[flipped.count - 3] ^= 0x40
        let altered = tmp + "/altered.bin"
        try Data(flipped).write(to: URL(fileURLWithPath: altered))
        try assertRefused([altered], altered, "checksum mismatch (file is damaged)")
        // A base with another fingerprint: the error names that base and the artifact.
        let other = TestPaths.fixture("models/tiny-classifier")
        try assertRefused([good, "--base", other], other, "differs from")
        // One bad artifact among good ones: reports for the good, one error line, exit 1.
        let r = try runTool("bertrun", ["--verify", good, altered])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.out.hasSuffix("\(good): ok\n"), r.out)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        // Usage errors exit 64.
        XCTAssertEqual(try runTool("bertrun", ["--verify"]).code, 64)
        XCTAssertEqual(try runTool("bertrun", ["--verify", good, "--threads", "2"]).code, 64)
    }
}
