import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT / SIGTERM while `bertc compile -o X` or `bertrun --output X` is writing: the process dies
/// by that signal and leaves neither X nor its temp file. The writer's test hook
/// (`BERTC_TEST_PAUSE_BEFORE_RENAME`, see AtomicFile) holds the complete temp file open for
/// renaming, so the signal lands at the worst moment every time; no timing is asserted.
final class InterruptTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func launch(_ tool: String, _ args: [String], pause: String?) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.executable(tool))
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["BERTC_TEST_PAUSE_BEFORE_RENAME"] = pause
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits (up to a minute) for the temp file AtomicFile makes for `name` in `dir`.
    func waitForTempFile(of name: String, in dir: String) -> Bool {
        for _ in 0..<3000 {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            if files.contains(where: { $0.hasPrefix(".\(name).tmp.") }) { return true }
            usleep(20_000)
        }
        return false
    }

    /// Runs `args`, interrupts it with `sig` once its output's temp file exists, and checks that the
    /// tool died by that signal and that `dir` holds only `keep`.
    func assertInterruptLeavesNothing(_ tool: String, _ args: [String], output: String, signal sig: Int32,
                                      keep: [String], line: UInt = #line) throws {
        let p = try launch(tool, args, pause: "60")
        let name = (output as NSString).lastPathComponent
        let dir = (output as NSString).deletingLastPathComponent
        XCTAssertTrue(waitForTempFile(of: name, in: dir), "no temp file appeared", line: line)
        kill(p.processIdentifier, sig)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, line: line)
        XCTAssertEqual(p.terminationStatus, sig, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), keep.sorted(),
                       "neither \(name) nor its temp file is left", line: line)
    }

    func testSIGINTDuringCompileLeavesNoFile() throws {
        let out = tmp + "/task.bin"
        try assertInterruptLeavesNothing("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", out],
                                         output: out, signal: SIGINT, keep: [])
    }

    func testSIGTERMDuringCompileLeavesNoFile() throws {
        let out = tmp + "/task.bin"
        try assertInterruptLeavesNothing("bertc", ["compile", TestPaths.fixture("masked/encoder-mask90"),
                                                    "--base", TestPaths.fixture("models/tiny-encoder"), "-o", out],
                                         output: out, signal: SIGTERM, keep: [])
    }

    func testSIGTERMAndSIGINTDuringBertrunOutputLeaveNoFile() throws {
        let model = tmp + "/enc.bin"
        XCTAssertEqual(try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", model]).code, 0)
        let input = tmp + "/in.jsonl"
        try String(repeating: "{\"text\": \"a sentence to embed\"}\n", count: 50).write(toFile: input, atomically: true, encoding: .utf8)
        let out = tmp + "/out.jsonl"
        for sig in [SIGTERM, SIGINT] {
            try assertInterruptLeavesNothing("bertrun", [model, "--input", input, "--output", out],
                                             output: out, signal: sig, keep: ["enc.bin", "in.jsonl"])
        }
    }

    /// The hook only delays: without a signal the output appears whole.
    func testPausedWriteCompletes() throws {
        let out = tmp + "/task.bin"
        let p = try launch("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", out], pause: "0.2")
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp), ["task.bin"])
        XCTAssertEqual(try runTool("bertrun", ["--verify", out]).code, 0)
    }
}
