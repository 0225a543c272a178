/// The pass registry matches the pass files in passes/ (one `<Name>Pass.swift` per pass), every pass
/// documents itself, every bumped statistic is declared, and pipelines parse as documented.
import XCTest
import BertIR
import BertPasses

final class PassRegistryTests: XCTestCase {
    static let passesDir = TestPaths.repoRoot.appendingPathComponent("passes").path

    /// `XxxPass.swift` files and their text.
    func passFiles() throws -> [(file: String, text: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.passesDir).sorted()
        return try names.filter { $0.hasSuffix("Pass.swift") && $0 != "Pass.swift" && $0.first!.isUppercase }.map {
            ($0, try String(contentsOfFile: Self.passesDir + "/" + $0, encoding: .utf8))
        }
    }

    /// All matches of `prefix"(...)"` string literals in `text`.
    func quoted(after prefix: String, in text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let r = rest.range(of: prefix + "\"") {
            let after = rest[r.upperBound...]
            guard let end = after.firstIndex(of: "\"") else { break }
            out.append(String(after[..<end]))
            rest = after[end...]
        }
        return out
    }

    func testRegistryMatchesPassFiles() throws {
        let files = try passFiles()
        XCTAssertFalse(files.isEmpty)
        var fileNames: [String] = []
        for (file, text) in files {
            let names = quoted(after: "static let name = ", in: text)
            XCTAssertEqual(names.count, 1, "\(file) must hold exactly one pass")
            fileNames += names
            let typeName = String(file.dropLast(".swift".count))
            XCTAssertTrue(text.contains("struct \(typeName): ModulePass") || text.contains("class \(typeName): ModulePass"),
                          "\(file) must define \(typeName)")
        }
        XCTAssertEqual(Set(fileNames), Set(PassRegistry.all.map { $0.name }))
        XCTAssertEqual(fileNames.count, PassRegistry.all.count)
        for p in PassRegistry.all {
            XCTAssertTrue(files.contains { $0.file == "\(p).swift" }, "\(p) has no file \(p).swift")
            XCTAssertNotNil(PassRegistry.lookup(p.name))
        }
        XCTAssertNil(PassRegistry.lookup("no-such-pass"))
    }

    func testPassesDocumentThemselves() throws {
        var names = Set<String>()
        for p in PassRegistry.all {
            XCTAssertTrue(names.insert(p.name).inserted, "duplicate pass name \(p.name)")
            XCTAssertFalse(p.summary.isEmpty, "\(p.name) has no summary")
            for o in p.options { XCTAssertFalse(o.summary.isEmpty, "\(p.name) option \(o.name)") }
            for s in p.statistics { XCTAssertFalse(s.summary.isEmpty, "\(p.name) statistic \(s.name)") }
            // Every pass builds with its default options.
            XCTAssertNoThrow(try p.init(options: [:]))
        }
        for (file, text) in try passFiles() {
            XCTAssertTrue(text.hasPrefix("///"), "\(file) must start with a doc comment")
        }
    }

    func testBumpedStatisticsAreDeclared() throws {
        // Statically: every bump("...") in a pass file names a declared statistic of that pass.
        for (file, text) in try passFiles() {
            let typeName = String(file.dropLast(".swift".count))
            guard let p = PassRegistry.all.first(where: { "\($0)" == typeName }) else { continue }
            let declared = Set(p.statistics.map(\.name))
            for s in quoted(after: "bump(", in: text) { XCTAssertTrue(declared.contains(s), "\(file) bumps undeclared \(s)") }
        }
        // Dynamically: run every pass on a valid module with a base that differs in one tensor.
        let (m, w) = oneLayerModule()
        let base = WeightStore()
        for n in w.names { base[n] = w[n] }
        base["up.b"] = TensorBuffer(shape: [6], values: [1, 1, 1, 1, 1, 1])
        let ctx = PassContext(module: m, weights: w, base: base)
        let pipeline = try PassPipeline(parsing: PassRegistry.all.map { $0.name }.joined(separator: ","), verifyEach: true)
        try pipeline.run(ctx)
        XCTAssertFalse(ctx.statistics.isEmpty)
        for s in ctx.statistics {
            let p = try XCTUnwrap(PassRegistry.lookup(s.pass))
            XCTAssertTrue(p.statistics.contains { $0.name == s.name }, "\(s.pass) bumped undeclared \(s.name)")
        }
        XCTAssertEqual(ctx.statistic("share-base", "tensors-shared"), m.tensors.count - 1)
        XCTAssertEqual(ctx.statistic("share-base", "tensors-kept"), 1)
        XCTAssertEqual(ctx.statistic("verify", "ops-verified"), m.ops.count)
    }

    func testPipelineParsing() throws {
        let p = try PassPipeline(parsing: " verify , share-base{ min-bytes = 64 },verify")
        XCTAssertEqual(p.passNames, ["verify", "share-base", "verify"])
        XCTAssertEqual((p.entries[1].pass as? ShareBasePass)?.minBytes, 64)
        XCTAssertEqual((try PassPipeline(parsing: "share-base").entries[0].pass as? ShareBasePass)?.minBytes, 0)
        XCTAssertEqual(try PassPipeline(parsing: "").passNames, [])
        let bad: [(String, String)] = [
            ("verify,cse", "<pipeline>: unknown pass 'cse'; known passes: verify, share-base, eliminate-zeros, sparse-delta, to-csr"),
            ("share-base{min-bytes=1,colour=red}", "<pipeline>: pass 'share-base' has no option 'colour'; known options: min-bytes"),
            ("verify{x=1}", "<pipeline>: pass 'verify' has no option 'x'; known options: none"),
            ("share-base{min-bytes=-1}", "<pipeline>: option 'min-bytes' of pass 'share-base' expects a non-negative integer, got '-1'"),
            ("share-base{min-bytes}", "<pipeline>: option 'min-bytes' of pass 'share-base' needs a value (min-bytes=...)"),
            ("share-base{min-bytes=1", "<pipeline>: unbalanced '{' in pipeline 'share-base{min-bytes=1'"),
            ("verify,,verify", "<pipeline>: empty pass name in pipeline 'verify,,verify'"),
        ]
        for (text, message) in bad {
            XCTAssertThrowsError(try PassPipeline(parsing: text), text) { err in
                XCTAssertEqual(String(describing: err), message)
            }
        }
    }

    func testVerifyEachAndPrintAfterAll() throws {
        let (m, w) = oneLayerModule()
        var printed: [String] = []
        let ctx = PassContext(module: m, weights: w, base: nil, file: "t.ir")
        try PassPipeline(parsing: "share-base,verify").run(ctx) { pass, ir in
            printed.append(pass)
            XCTAssertTrue(ir.hasPrefix("module @one-layer {"))
        }
        XCTAssertEqual(printed, ["share-base", "verify"])
        // With verifyEach, a pass that leaves a broken module fails right after it.
        var broken = m
        broken.ops.removeFirst()
        let ctx2 = PassContext(module: broken, weights: w, file: "t.ir")
        XCTAssertThrowsError(try PassPipeline(parsing: "share-base", verifyEach: true).run(ctx2)) { err in
            XCTAssertEqual(String(describing: err), "t.ir: after pass share-base: %0 = embeddings: operand %input_ids is not defined")
        }
        XCTAssertNoThrow(try PassPipeline(parsing: "share-base").run(PassContext(module: broken, weights: w)))
    }

    func testStatisticsReport() throws {
        let (m, w) = oneLayerModule()
        let base = WeightStore()
        for n in w.names { base[n] = w[n] }
        let ctx = PassContext(module: m, weights: w, base: base)
        try PassPipeline(parsing: "share-base{min-bytes=64}").run(ctx)
        // Shared (>= 64 B): word 160, pos 128, q/k/v/o 4x64, up.w 96, down.w 96, pool.w 64 = 9 tensors, 800 B; 14 kept.
        let report = PassStatisticsReport.format(ctx)
        XCTAssertEqual(report, """
        ===- Statistics -===
            9 share-base - Number of tensors shared with the base
          800 share-base - Number of bytes shared with the base
           14 share-base - Number of dense tensors kept

        """)
        XCTAssertEqual(PassStatisticsReport.format(PassContext(module: m, weights: w)), "")
    }
}
