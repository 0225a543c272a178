import BertArtifact
import BertIR
import BertRuntime
import BertSparse
import Foundation
import XCTest

@testable import BertDriver

/// Masked, pruned and delta fine-tunes (fixtures/masked, written by tools/make_masked_fixtures.py)
/// compiled over their base with the sparse passes, run, and compared with transformers.
final class SparseEndToEndTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    static let sparsePipeline = "verify,share-base,eliminate-zeros,sparse-delta,to-csr"

    /// Compiles `name` (over tiny-encoder when `base`), runs every reference case, and checks
    /// hidden states, pooler output and logits within 1e-5 of transformers.
    @discardableResult
    func check(_ name: String, base: Bool, pipeline: String = sparsePipeline) throws -> (LoadedTask, CompileSummary) {
        let out = tmp + "/\(name)-\(abs(pipeline.hashValue)).bin"
        let summary = try Compiler.compile(model: TestPaths.fixture("masked/" + name),
                                           base: base ? TestPaths.fixture("models/tiny-encoder") : nil,
                                           pipeline: pipeline, output: out)
        let task = try LoadedTask.load(path: out, baseOverride: nil, threads: 2, verify: true)
        let cases = try readJSONLines(TestPaths.fixture("masked/\(name).jsonl"))
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for (i, c) in cases.enumerated() {
            let ids = ints(c["input_ids"]), types = ints(c["token_type_ids"])
            let out = try task.engine.run(Batch(rows: [(ids, types)]))
            let hidden = Array(out.values["last_hidden_state"]!.buffer)
            XCTAssertLessThanOrEqual(maxAbsDiff(hidden, floats(c["last_hidden_state"])), 1e-5, "\(name) case \(i) [\(pipeline)]")
            XCTAssertLessThanOrEqual(maxAbsDiff(out.row("pooler_output", 0) ?? [], floats(c["pooler_output"])), 1e-5)
            if c["logits"] != nil {
                XCTAssertLessThanOrEqual(maxAbsDiff(out.row("logits", 0) ?? [], floats(c["logits"])), 1e-5)
            }
        }
        return (task, summary)
    }

    func decls(_ t: LoadedTask) -> [TensorDecl] { t.artifact.contents.module.tensors }

    /// Random masks over the base: only the masks are stored, executed as CSR, masked dense or dense.
    func testMaskedTasksMatchTransformersWithEveryComputeFormat() throws {
        for name in ["encoder-mask01", "encoder-mask10", "encoder-mask50", "encoder-mask90"] {
            let (task, summary) = try check(name, base: true)
            let masked = decls(task).filter { $0.storage == .mask }
            XCTAssertEqual(masked.count, 6, name)
            XCTAssertEqual(Set(summary.storedTensors), Set(masked.map(\.name)), "\(name): nothing but the masks is stored")
            // Every compute format for the same storage.
            let csr = try check(name, base: true, pipeline: Self.sparsePipeline + "{max-density=1.0}").0
            XCTAssertTrue(decls(csr).filter { $0.storage == .mask }.allSatisfy { $0.compute == .csr })
            let dense = try check(name, base: true, pipeline: Self.sparsePipeline + "{max-density=0.0}").0
            XCTAssertTrue(decls(dense).filter { $0.storage == .mask }.allSatisfy { $0.compute == .masked })
        }
    }

    /// The 90% mask is executed as CSR by default; the 10% one with the masked dense kernel.
    func testDefaultComputeFollowsDensity() throws {
        let sparse = try check("encoder-mask90", base: true).0
        XCTAssertTrue(decls(sparse).filter { $0.storage == .mask }.allSatisfy { $0.compute == .csr })
        let dense = try check("encoder-mask10", base: true).0
        XCTAssertTrue(decls(dense).filter { $0.storage == .mask }.allSatisfy { $0.compute == .masked })
    }

    /// A model's own zeros (90% magnitude pruning, no base) are stored and executed as CSR.
    func testMagnitudePrunedClassifierRunsAsCSR() throws {
        let (task, _) = try check("classifier-magnitude90", base: false)
        let csr = decls(task).filter { $0.storage == .csr }
        XCTAssertEqual(csr.count, 18)
        XCTAssertTrue(csr.allSatisfy { $0.compute == .csr })
        // CSR of 10%-dense weights saves at least 75% of their dense bytes against a dense compile.
        let dense = try Compiler.compile(model: TestPaths.fixture("masked/classifier-magnitude90"), pipeline: "verify",
                                         output: tmp + "/dense.bin")
        let linearBytes = csr.reduce(0) { $0 + $1.denseBytes }
        XCTAssertLessThan(task.artifact.fileSize, dense.bytesWritten - linearBytes * 3 / 4)
    }

    /// Dead FFN neurons and a dead attention head are removed: shapes shrink, outputs do not change.
    func testStructuralEliminationShrinksShapesNotOutputs() throws {
        let (neurons, _) = try check("encoder-dead-neurons", base: true)
        let inter = try XCTUnwrap(decls(neurons).first { $0.name == "encoder.layer.0.intermediate.dense.weight" })
        XCTAssertEqual(inter.shape, [37 - 9, 32])
        let outW = try XCTUnwrap(decls(neurons).first { $0.name == "encoder.layer.0.output.dense.weight" })
        XCTAssertEqual(outW.shape, [32, 37 - 9])
        let (head, _) = try check("encoder-dead-head", base: true)
        let q = try XCTUnwrap(decls(head).first { $0.name == "encoder.layer.1.attention.self.query.weight" })
        XCTAssertEqual(q.shape, [24, 32])
        let attention = head.artifact.contents.module.ops.filter { $0.kind == .attention }
        XCTAssertEqual(attention.map { $0.attributes[attr: "heads"]?.intValue }, [4, 3])
    }

    /// A few changed entries are stored as positions plus values.
    func testSparseDeltaTask() throws {
        let (task, summary) = try check("encoder-delta", base: true)
        let delta = decls(task).filter { $0.storage == .delta }
        XCTAssertEqual(delta.map(\.name), ["encoder.layer.0.intermediate.dense.weight"])
        XCTAssertEqual(summary.storedTensors, ["encoder.layer.0.intermediate.dense.weight"])
    }
}
