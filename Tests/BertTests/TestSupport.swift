import BertIR
import Foundation
import XCTest

/// Paths and fixture readers shared by the end-to-end tests.
enum TestPaths {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ rel: String) -> String { repoRoot.appendingPathComponent("fixtures/" + rel).path }

    /// The fetched MiniLM model (tools/fetch_minilm.sh); nil when absent.
    static var miniLM: String? {
        let env = ProcessInfo.processInfo.environment["BERTC_MINILM_DIR"]
        let candidates = [env, repoRoot.appendingPathComponent(".models/all-MiniLM-L6-v2").path].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/model.safetensors") }
    }

    /// A fresh temporary directory removed at process exit is not needed: tests clean up themselves.
    static func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bertc-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Built executables live next to the test binary (.build/<config>/).
    static func executable(_ name: String) -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: me).deletingLastPathComponent()
        // On Darwin the test binary sits inside NAME.xctest/Contents/MacOS.
        while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent(name).path
    }
}

/// Reads a JSON Lines fixture into dictionaries.
func readJSONLines(_ path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map {
        guard let o = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
            throw NSError(domain: "fixture", code: 1, userInfo: [NSLocalizedDescriptionKey: "bad line in \(path)"])
        }
        return o
    }
}

func floats(_ any: Any?) -> [Float] {
    if let a = any as? [NSNumber] { return a.map { $0.floatValue } }
    if let a = any as? [[NSNumber]] { return a.flatMap { $0.map { $0.floatValue } } }
    return []
}

func ints(_ any: Any?) -> [Int32] { (any as? [NSNumber])?.map { $0.int32Value } ?? [] }

/// Largest absolute difference; fails when the lengths differ.
func maxAbsDiff(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.count, b.count, "length", file: file, line: line)
    var m: Float = 0
    for i in 0..<min(a.count, b.count) { m = max(m, abs(a[i] - b[i])) }
    return a.count == b.count ? m : .infinity
}

/// Runs a built executable and captures its exit code, stdout and stderr.
func runTool(_ name: String, _ args: [String]) throws -> (code: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: TestPaths.executable(name))
    p.arguments = args
    let o = Pipe(), e = Pipe()
    p.standardOutput = o; p.standardError = e
    try p.run()
    let od = o.fileHandleForReading.readDataToEndOfFile()
    let ed = e.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
}

/// Asserts that `body` throws a one-line BertError whose text contains every one of `needles`.
func assertBertError(_ needles: [String], file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error containing \(needles)", file: file, line: line)
    } catch let e as BertError {
        for n in needles {
            XCTAssertTrue(e.description.contains(n), "'\(e.description)' lacks '\(n)'", file: file, line: line)
        }
        XCTAssertFalse(e.description.contains("\n"), "error is one line", file: file, line: line)
    } catch {
        XCTFail("expected BertError, got \(error)", file: file, line: line)
    }
}
