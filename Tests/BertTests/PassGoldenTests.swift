/// Runs every FileCheck-style golden file under fixtures/passes/<pass-name>/*.ir: each case (split by
/// `// -----`) names a pipeline (`// RUN:`), optionally a base module (after `// BASE:`), the input
/// module, and `// CHECK:` / `// CHECK-NEXT:` / `// CHECK-NOT:` lines matched in order against the
/// printed output module followed by the statistics report, or `// expected-error: <substring>`.
import XCTest
import BertIR
import BertPasses

/// One case of a golden file.
struct GoldenCase {
    enum CheckKind: String { case check = "CHECK", next = "CHECK-NEXT", not = "CHECK-NOT" }
    var path: String
    var firstLine: Int
    var pipeline: String
    var hasBase: Bool
    /// The case's text with every line outside the case blanked, so parser line numbers match the file.
    var text: String
    var checks: [(kind: CheckKind, pattern: String, line: Int)]
    var expectedErrors: [String]

    var label: String { "\((path as NSString).lastPathComponent):\(firstLine)" }

    /// All golden files, sorted.
    static func files() -> [String] {
        let root = TestPaths.fixture("passes")
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".ir") }.sorted().map { root + "/" + $0 }
    }

    static func load(_ path: String) throws -> [GoldenCase] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        var cases: [GoldenCase] = []
        var fileRun: String? = nil
        var start = 0
        func makeCase(_ range: Range<Int>) {
            var run: String? = nil
            var hasBase = false
            var checks: [(CheckKind, String, Int)] = []
            var errors: [String] = []
            for i in range {
                let t = lines[i].trimmingCharacters(in: .whitespaces)
                func rest(_ prefix: String) -> String? {
                    t.hasPrefix(prefix) ? String(t.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) : nil
                }
                if let r = rest("// RUN:") { run = r; if range.lowerBound == 0 { fileRun = r } }
                else if t == "// BASE:" { hasBase = true }
                else if let p = rest("// CHECK-NEXT:") { checks.append((.next, p, i + 1)) }
                else if let p = rest("// CHECK-NOT:") { checks.append((.not, p, i + 1)) }
                else if let p = rest("// CHECK:") { checks.append((.check, p, i + 1)) }
                else if let p = rest("// expected-error:") { errors.append(p) }
            }
            let body = lines.indices.map { range.contains($0) ? lines[$0] : "" }.joined(separator: "\n")
            cases.append(GoldenCase(path: path, firstLine: range.lowerBound + 1, pipeline: run ?? fileRun ?? "",
                                    hasBase: hasBase, text: body, checks: checks, expectedErrors: errors))
        }
        for (i, l) in lines.enumerated() where l.trimmingCharacters(in: .whitespaces) == "// -----" {
            makeCase(start..<i)
            start = i + 1
        }
        makeCase(start..<lines.count)
        return cases
    }

    /// The (base, input) modules of the case.
    func modules() throws -> (base: (Module, WeightStore)?, input: (Module, WeightStore)) {
        let ms = try IRParser.parseModules(text, file: path)
        if hasBase {
            guard ms.count == 2 else { throw BertError(path, "a case with // BASE: needs two modules, got \(ms.count)") }
            return (ms[0], ms[1])
        }
        guard ms.count == 1 else { throw BertError(path, "expected one module, got \(ms.count)") }
        return (nil, ms[0])
    }
}

/// FileCheck-style matching; returns a failure description or nil.
func fileCheck(_ output: String, _ checks: [(kind: GoldenCase.CheckKind, pattern: String, line: Int)]) -> String? {
    let lines = output.components(separatedBy: "\n")
    var pos = 0
    var pendingNot: [(pattern: String, line: Int)] = []
    func checkNots(_ range: Range<Int>) -> String? {
        for n in pendingNot {
            if let hit = range.first(where: { lines[$0].contains(n.pattern) }) {
                return "CHECK-NOT at line \(n.line): '\(n.pattern)' found in output line \(hit + 1): \(lines[hit])"
            }
        }
        return nil
    }
    for c in checks {
        switch c.kind {
        case .not:
            pendingNot.append((c.pattern, c.line))
        case .check:
            guard let found = (pos..<lines.count).first(where: { lines[$0].contains(c.pattern) }) else {
                return "CHECK at line \(c.line): '\(c.pattern)' not found after output line \(pos)"
            }
            if let f = checkNots(pos..<found) { return f }
            pendingNot = []
            pos = found + 1
        case .next:
            guard pos > 0, pos < lines.count, lines[pos].contains(c.pattern) else {
                let got = pos < lines.count ? lines[pos] : "<end of output>"
                return "CHECK-NEXT at line \(c.line): '\(c.pattern)' not on the next line; got: \(got)"
            }
            if let f = checkNots(pos..<pos) { return f }
            pendingNot = []
            pos += 1
        }
    }
    return checkNots(pos..<lines.count)
}

final class PassGoldenTests: XCTestCase {
    /// Runs one case; returns a failure description or nil.
    static func run(_ c: GoldenCase) -> String? {
        let output: String
        do {
            guard !c.pipeline.isEmpty else { return "missing // RUN: line" }
            let (base, input) = try c.modules()
            let pipeline = try PassPipeline(parsing: c.pipeline, verifyEach: true)
            let ctx = PassContext(module: input.0, weights: input.1, base: base?.1, file: c.path)
            try pipeline.run(ctx)
            output = IRPrinter.print(ctx.module) + PassStatisticsReport.format(ctx)
        } catch {
            let msg = String(describing: error)
            if c.expectedErrors.isEmpty { return "unexpected error: \(msg)" }
            for e in c.expectedErrors where !msg.contains(e) { return "error '\(msg)' does not contain '\(e)'" }
            return nil
        }
        if !c.expectedErrors.isEmpty { return "expected an error containing '\(c.expectedErrors[0])' but the pipeline succeeded" }
        if c.checks.isEmpty { return "case has no CHECK lines" }
        if let f = fileCheck(output, c.checks) { return f + "\n--- output ---\n" + output }
        return nil
    }

    func testEveryGoldenFile() throws {
        let files = GoldenCase.files()
        XCTAssertFalse(files.isEmpty, "no golden files under fixtures/passes")
        var count = 0
        for f in files {
            // The folder names the pass the file tests; its RUN lines must use that pass.
            let folder = ((f as NSString).deletingLastPathComponent as NSString).lastPathComponent
            XCTAssertNotNil(PassRegistry.lookup(folder), "\(f): folder is not a pass name")
            for c in try GoldenCase.load(f) {
                count += 1
                XCTAssertTrue(c.pipeline.contains(folder), "\(c.label): RUN '\(c.pipeline)' does not use \(folder)")
                if let failure = Self.run(c) { XCTFail("\(c.label): \(failure)") }
            }
        }
        XCTAssertGreaterThan(count, 5)
    }

    func testEveryPassHasGoldenFolder() {
        let files = GoldenCase.files()
        for p in PassRegistry.all {
            XCTAssertTrue(files.contains { $0.contains("/passes/\(p.name)/") }, "no golden tests for \(p.name)")
        }
    }

    // The FileCheck matcher itself must be able to fail.
    func testFileCheckMatcher() {
        let out = "a\nb\nc\n"
        XCTAssertNil(fileCheck(out, [(.check, "a", 1), (.next, "b", 2), (.not, "x", 3), (.check, "c", 4)]))
        XCTAssertNotNil(fileCheck(out, [(.check, "a", 1), (.next, "c", 2)]))
        XCTAssertNotNil(fileCheck(out, [(.check, "b", 1), (.check, "a", 2)]))
        XCTAssertNotNil(fileCheck(out, [(.check, "a", 1), (.not, "b", 2), (.check, "c", 3)]))
        XCTAssertNotNil(fileCheck(out, [(.check, "a", 1), (.not, "c", 2)]))
        XCTAssertNotNil(fileCheck(out, [(.check, "zzz", 1)]))
    }

    // A golden case whose CHECK does not hold must be reported.
    func testRunnerReportsWrongExpectations() throws {
        let dir = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/x.ir"
        try """
        // RUN: verify
        module @m {
        }
        // CHECK: module @other
        // -----
        module @m {
          output %nope {name = "y"}
        }
        // CHECK: module @m
        // -----
        module @m {
        }
        // expected-error: something
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let cases = try GoldenCase.load(path)
        XCTAssertEqual(cases.count, 3)
        XCTAssertEqual(cases.map(\.pipeline), ["verify", "verify", "verify"])
        for c in cases { XCTAssertNotNil(Self.run(c), c.label) }
    }
}
