/// `eliminate-zeros` and `sparse-delta` on real checkpoints: structural elimination of dead FFN neurons
/// and dead attention heads shrinks shapes but not outputs (the runtime Engine before and after the pass,
/// and transformers' references for fixtures/masked/*), masks and deltas are found with the counts the
/// tests planted, and the statistics report them.
import XCTest
import BertIR
import BertCheckpoint
import BertPasses
import BertRuntime

final class EliminateZerosTests: XCTestCase {
    static let layer0 = "encoder.layer.0."
    static let layer1 = "encoder.layer.1."

    /// Token ids of a padded two-row batch plus single rows from a reference file.
    static let rows: [(ids: [Int32], typeIds: [Int32])] = [
        (ids: [6, 129, 274, 153, 237, 7], typeIds: [0, 0, 0, 0, 0, 0]),
        (ids: [6, 40, 300, 7, 90, 7], typeIds: [0, 0, 0, 0, 1, 1]),
        (ids: [6, 200, 7], typeIds: [0, 0, 0]),
    ]

    func load(_ rel: String) throws -> LoadedModel {
        let path = TestPaths.fixture(rel)
        guard FileManager.default.fileExists(atPath: path + "/config.json") else {
            throw XCTSkip("fixture \(rel) is missing (tools/make_masked_fixtures.py makes it)")
        }
        return try CheckpointLoader.load(path: path)
    }

    /// A copy of `store` (buffers are immutable, so sharing them is a copy).
    func copy(_ store: WeightStore) -> WeightStore {
        let out = WeightStore()
        for n in store.names { out[n] = store[n] }
        return out
    }

    /// Sets entries of tensor `name` to `value` (by flat index) in `store`.
    func set(_ store: WeightStore, _ name: String, _ indices: [Int], to value: Float) throws {
        let t = try XCTUnwrap(store[name], name)
        var v = Array(t.buffer)
        for i in indices { v[i] = value }
        store[name] = TensorBuffer(shape: t.shape, values: v)
    }

    /// Zeroes FFN neurons of `layer` (intermediate weight rows and biases).
    func killNeurons(_ store: WeightStore, layer: String, _ neurons: [Int], hidden: Int) throws {
        try set(store, layer + "intermediate.dense.weight", neurons.flatMap { j in (j * hidden)..<((j + 1) * hidden) }, to: 0)
        try set(store, layer + "intermediate.dense.bias", neurons, to: 0)
    }

    /// Zeroes head `head` (of width `dh`) in the query, key and value weights and biases of `layer`.
    func killHead(_ store: WeightStore, layer: String, head: Int, dh: Int, hidden: Int) throws {
        for p in ["query", "key", "value"] {
            let rows = (head * dh)..<((head + 1) * dh)
            try set(store, layer + "attention.self.\(p).weight", rows.flatMap { r in (r * hidden)..<((r + 1) * hidden) }, to: 0)
            try set(store, layer + "attention.self.\(p).bias", Array(rows), to: 0)
        }
    }

    func run(_ m: Module, _ w: WeightStore, rows: [(ids: [Int32], typeIds: [Int32])] = EliminateZerosTests.rows) throws -> [String: [Float]] {
        let out = try Engine(module: m, weights: w, threads: 2).run(Batch(rows: rows))
        return out.values.mapValues { Array($0.buffer) }
    }

    /// Runs `pipeline` (verifying after every pass) and returns the context.
    func compile(_ m: Module, _ w: WeightStore, base: WeightStore? = nil, _ pipeline: String = "eliminate-zeros") throws -> PassContext {
        let ctx = PassContext(module: m, weights: w, base: base, file: "test")
        try PassPipeline(parsing: pipeline, verifyEach: true).run(ctx)
        return ctx
    }

    func shape(_ ctx: PassContext, _ name: String) -> [Int]? { ctx.module.tensor(named: name)?.shape }

    func op(_ ctx: PassContext, weight: String) -> Op? {
        ctx.module.ops.first { $0.kind == .linear && $0.operands.count > 1 && $0.operands[1] == .tensor(weight) }
    }

    func assertSameOutputs(_ a: [String: [Float]], _ b: [String: [Float]], tolerance: Float = 1e-5,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line)
        XCTAssertTrue(a.keys.contains("last_hidden_state"), file: file, line: line)
        for (k, v) in a {
            guard let w = b[k] else { continue }
            XCTAssertLessThanOrEqual(maxAbsDiff(v, w, file: file, line: line), tolerance, k, file: file, line: line)
        }
    }

    // MARK: structure on tiny-encoder (hidden 32, 4 heads of 8, intermediate 37, 2 layers)

    func testDeadNeuronsRemovedWithoutChangingOutputs() throws {
        let model = try load("models/tiny-encoder")
        let w = copy(model.weights)
        let dead0 = [0, 5, 17, 36], dead1 = [3]
        try killNeurons(w, layer: Self.layer0, dead0, hidden: 32)
        try killNeurons(w, layer: Self.layer1, dead1, hidden: 32)
        // Neuron 9 of layer 1: zero row, nonzero bias: alive.
        try set(w, Self.layer1 + "intermediate.dense.weight", Array(9 * 32..<10 * 32), to: 0)
        let before = try run(model.module, w)
        let original0 = try XCTUnwrap(w[Self.layer0 + "output.dense.weight"])
        let originalUp0 = try XCTUnwrap(w[Self.layer0 + "intermediate.dense.weight"])

        let ctx = try compile(model.module, w)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "neurons-removed"), 5)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "heads-removed"), 0)
        XCTAssertEqual(shape(ctx, Self.layer0 + "intermediate.dense.weight"), [33, 32])
        XCTAssertEqual(shape(ctx, Self.layer0 + "intermediate.dense.bias"), [33])
        XCTAssertEqual(shape(ctx, Self.layer0 + "output.dense.weight"), [32, 33])
        XCTAssertEqual(shape(ctx, Self.layer1 + "intermediate.dense.weight"), [36, 32])
        XCTAssertEqual(shape(ctx, Self.layer1 + "output.dense.weight"), [32, 36])
        XCTAssertEqual(op(ctx, weight: Self.layer0 + "intermediate.dense.weight")?.type?.description, "f32[B, S, 33]")
        XCTAssertEqual(op(ctx, weight: Self.layer1 + "intermediate.dense.weight")?.type?.description, "f32[B, S, 36]")
        XCTAssertEqual(ctx.module.ops.filter { $0.kind == .gelu }.map { $0.type?.description ?? "" },
                       ["f32[B, S, 33]", "f32[B, S, 36]"])
        // The kept data are the original rows and columns, in order.
        let keep = (0..<37).filter { !dead0.contains($0) }
        let up = try XCTUnwrap(ctx.weights[Self.layer0 + "intermediate.dense.weight"])
        let down = try XCTUnwrap(ctx.weights[Self.layer0 + "output.dense.weight"])
        for (r, j) in keep.enumerated() {
            XCTAssertEqual(Array(up.buffer[(r * 32)..<((r + 1) * 32)]), Array(originalUp0.buffer[(j * 32)..<((j + 1) * 32)]))
            for i in 0..<32 { XCTAssertEqual(down.buffer[i * 33 + r], original0.buffer[i * 37 + j]) }
        }

        let after = try run(ctx.module, ctx.weights)
        assertSameOutputs(before, after)
    }

    func testDeadHeadRemovedWithoutChangingOutputs() throws {
        let model = try load("models/tiny-encoder")
        let w = copy(model.weights)
        try killHead(w, layer: Self.layer1, head: 2, dh: 8, hidden: 32)
        try killHead(w, layer: Self.layer0, head: 0, dh: 8, hidden: 32)
        try killHead(w, layer: Self.layer0, head: 3, dh: 8, hidden: 32)
        // Layer 1 head 0: query and key dead, value alive (the head averages values): kept.
        for p in ["query", "key"] {
            try set(w, Self.layer1 + "attention.self.\(p).weight", Array(0..<(8 * 32)), to: 0)
            try set(w, Self.layer1 + "attention.self.\(p).bias", Array(0..<8), to: 0)
        }
        let originalOut1 = try XCTUnwrap(w[Self.layer1 + "attention.output.dense.weight"])
        let before = try run(model.module, w)

        let ctx = try compile(model.module, w)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "heads-removed"), 3)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "neurons-removed"), 0)
        for p in ["query", "key", "value"] {
            XCTAssertEqual(shape(ctx, Self.layer0 + "attention.self.\(p).weight"), [16, 32])
            XCTAssertEqual(shape(ctx, Self.layer0 + "attention.self.\(p).bias"), [16])
            XCTAssertEqual(shape(ctx, Self.layer1 + "attention.self.\(p).weight"), [24, 32])
            XCTAssertEqual(op(ctx, weight: Self.layer1 + "attention.self.\(p).weight")?.type?.description, "f32[B, S, 24]")
        }
        XCTAssertEqual(shape(ctx, Self.layer0 + "attention.output.dense.weight"), [32, 16])
        XCTAssertEqual(shape(ctx, Self.layer1 + "attention.output.dense.weight"), [32, 24])
        let attention = ctx.module.ops.filter { $0.kind == .attention }
        XCTAssertEqual(attention.map { $0.attributes[attr: "heads"]?.intValue ?? 0 }, [2, 3])
        XCTAssertEqual(attention.map { $0.type?.description ?? "" }, ["f32[B, S, 16]", "f32[B, S, 24]"])
        // Layer 1 keeps columns 0..<16 and 24..<32 of the attention output projection.
        let out1 = try XCTUnwrap(ctx.weights[Self.layer1 + "attention.output.dense.weight"])
        let keep = Array(0..<16) + Array(24..<32)
        for i in 0..<32 { for (c, j) in keep.enumerated() { XCTAssertEqual(out1.buffer[i * 24 + c], originalOut1.buffer[i * 32 + j]) } }

        let after = try run(ctx.module, ctx.weights)
        assertSameOutputs(before, after)
    }

    func testNothingDeadChangesNothing() throws {
        let model = try load("models/tiny-encoder")
        let ctx = try compile(model.module, copy(model.weights))
        XCTAssertEqual(ctx.module, model.module)
        XCTAssertTrue(ctx.statistics.isEmpty, "\(ctx.statistics)")
        XCTAssertEqual(try run(ctx.module, ctx.weights), try run(model.module, model.weights))
    }

    func testStructuralFalseKeepsShapes() throws {
        let model = try load("models/tiny-encoder")
        let w = copy(model.weights)
        try killNeurons(w, layer: Self.layer0, [1, 2], hidden: 32)
        try killHead(w, layer: Self.layer0, head: 1, dh: 8, hidden: 32)
        let ctx = try compile(model.module, w, "eliminate-zeros{structural=false}")
        XCTAssertEqual(ctx.module.ops, model.module.ops)
        XCTAssertEqual(ctx.module.tensors.map(\.shape), model.module.tensors.map(\.shape))
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "neurons-removed"), 0)
    }

    // MARK: the masked fixtures (tools/make_masked_fixtures.py), against transformers

    /// Runs a masked fixture before and after the pass and against its transformers reference.
    func checkFixture(_ name: String, neurons: Int, heads: Int) throws -> PassContext {
        let model = try load("masked/\(name)")
        let cases = try readJSONLines(TestPaths.fixture("masked/\(name).jsonl"))
        XCTAssertFalse(cases.isEmpty)
        let rows = cases.map { (ids: ints($0["input_ids"]), typeIds: ints($0["token_type_ids"])) }
        let ctx = try compile(model.module, copy(model.weights))
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "neurons-removed"), neurons)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "heads-removed"), heads)
        for (c, row) in zip(cases, rows) {
            let before = try run(model.module, model.weights, rows: [row])
            let after = try run(ctx.module, ctx.weights, rows: [row])
            assertSameOutputs(before, after)
            let reference = floats(c["last_hidden_state"])
            XCTAssertLessThanOrEqual(maxAbsDiff(after["last_hidden_state"] ?? [], reference), 1e-5, "\(c["text"] ?? "")")
        }
        // Padded together, too.
        assertSameOutputs(try run(model.module, model.weights, rows: rows), try run(ctx.module, ctx.weights, rows: rows))
        return ctx
    }

    func testMaskedFixtureDeadNeurons() throws {
        // 9 FFN neurons of layer 0 are dead.
        let ctx = try checkFixture("encoder-dead-neurons", neurons: 9, heads: 0)
        XCTAssertEqual(shape(ctx, Self.layer0 + "intermediate.dense.weight"), [28, 32])
        XCTAssertEqual(shape(ctx, Self.layer0 + "output.dense.weight"), [32, 28])
        XCTAssertEqual(shape(ctx, Self.layer1 + "intermediate.dense.weight"), [37, 32])
    }

    func testMaskedFixtureDeadHead() throws {
        // Head 2 of layer 1 is dead.
        let ctx = try checkFixture("encoder-dead-head", neurons: 0, heads: 1)
        XCTAssertEqual(shape(ctx, Self.layer1 + "attention.self.value.weight"), [24, 32])
        XCTAssertEqual(shape(ctx, Self.layer1 + "attention.output.dense.weight"), [32, 24])
        XCTAssertEqual(ctx.module.ops.filter { $0.kind == .attention }.map { $0.attributes[attr: "heads"]?.intValue ?? 0 }, [4, 3])
    }

    // MARK: entries: masks and deltas over a base

    func testMasksAndDeltasOverTheBase() throws {
        let model = try load("models/tiny-encoder")
        let base = model.weights
        let w = copy(base)
        let q = Self.layer0 + "attention.self.query.weight"   // [32, 32]
        let zeroed = stride(from: 3, to: 1024, by: 10).map { $0 }  // 103 entries
        try set(w, q, zeroed, to: 0)
        let k = Self.layer1 + "attention.self.key.weight"
        try set(w, k, [7, 500, 1000], to: 0.125)               // 3 of 1024 changed
        let v = Self.layer1 + "attention.self.value.weight"
        try set(w, v, Array(0..<40), to: 0.5)                  // 40 of 1024 changed: above 2%
        let ctx = try compile(model.module, w, base: base, "share-base,eliminate-zeros,sparse-delta")

        let nonzeroInBase = zeroed.filter { base[q]!.buffer[$0] != 0 }.count
        XCTAssertEqual(nonzeroInBase, 103)
        let qd = try XCTUnwrap(ctx.module.tensor(named: q))
        XCTAssertEqual(qd.storage, .mask)
        XCTAssertEqual(qd.compute, .masked)
        XCTAssertEqual(qd.attributes[attr: "zeroed"], .int(103))
        XCTAssertEqual(qd.attributes[attr: "density"]?.doubleValue ?? -1, Double(1024 - 103) / 1024, accuracy: 1e-12)
        let kd = try XCTUnwrap(ctx.module.tensor(named: k))
        XCTAssertEqual(kd.storage, .delta)
        XCTAssertEqual(kd.compute, .dense)
        XCTAssertEqual(kd.attributes[attr: "changed"], .int(3))
        XCTAssertEqual(ctx.module.tensor(named: v)?.storage, .dense)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "tensors-masked"), 1)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "entries-zeroed"), 103)
        XCTAssertEqual(ctx.statistic("sparse-delta", "tensors-delta"), 1)
        XCTAssertEqual(ctx.statistic("sparse-delta", "entries-changed"), 3)
        XCTAssertEqual(ctx.statistic("share-base", "tensors-shared"), model.module.tensors.count - 3)
        // The report lists the counters under each pass.
        let report = PassStatisticsReport.format(ctx)
        XCTAssertTrue(report.contains("103 eliminate-zeros - Number of base entries zeroed by masks"), report)
        XCTAssertTrue(report.contains("3 sparse-delta - Number of entries the deltas change"), report)
    }

    func testMaskedFixtureOverItsBase() throws {
        // encoder-mask10: random masks zeroing 10% of chosen layers of tiny-encoder.
        let model = try load("masked/encoder-mask10")
        let base = try load("models/tiny-encoder")
        let ctx = try compile(model.module, copy(model.weights), base: base.weights, "share-base,eliminate-zeros,sparse-delta")
        let masked = ctx.module.tensors.filter { $0.storage == .mask }
        XCTAssertFalse(masked.isEmpty)
        var zeroedTotal = 0
        for t in masked {
            // Count independently: entries zero in the task but not in the base; all others bitwise equal.
            let mine = try XCTUnwrap(model.weights[t.name]), theirs = try XCTUnwrap(base.weights[t.name])
            var zeroed = 0, other = 0
            for i in 0..<mine.count {
                if mine.buffer[i].bitPattern == theirs.buffer[i].bitPattern { continue }
                if mine.buffer[i] == 0 && mine.buffer[i].sign == .plus { zeroed += 1 } else { other += 1 }
            }
            XCTAssertEqual(other, 0, t.name)
            XCTAssertEqual(t.attributes[attr: "zeroed"], .int(zeroed), t.name)
            XCTAssertEqual(Double(zeroed) / Double(mine.count), 0.1, accuracy: 0.02, t.name)
            zeroedTotal += zeroed
        }
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "tensors-masked"), masked.count)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "entries-zeroed"), zeroedTotal)
        XCTAssertEqual(ctx.statistic("sparse-delta", "tensors-delta"), 0)
        XCTAssertEqual(ctx.statistic("share-base", "tensors-shared") + masked.count, model.module.tensors.count)
    }

    func testMaskedFixtureDeltaOverItsBase() throws {
        // encoder-delta: 0.5% of layer 0 intermediate.dense entries redrawn.
        let model = try load("masked/encoder-delta")
        let base = try load("models/tiny-encoder")
        let name = Self.layer0 + "intermediate.dense.weight"
        let mine = try XCTUnwrap(model.weights[name]), theirs = try XCTUnwrap(base.weights[name])
        let changed = (0..<mine.count).filter { mine.buffer[$0].bitPattern != theirs.buffer[$0].bitPattern }.count
        XCTAssertGreaterThan(changed, 0)
        let ctx = try compile(model.module, copy(model.weights), base: base.weights, "share-base,eliminate-zeros,sparse-delta")
        let t = try XCTUnwrap(ctx.module.tensor(named: name))
        XCTAssertEqual(t.storage, .delta)
        XCTAssertEqual(t.attributes[attr: "changed"], .int(changed))
        XCTAssertEqual(ctx.statistic("sparse-delta", "entries-changed"), changed)
        XCTAssertEqual(ctx.statistic("eliminate-zeros", "tensors-masked"), 0)
        // A max-fraction below the changed fraction keeps it dense.
        let strict = try compile(model.module, copy(model.weights), base: base.weights,
                                 "share-base,sparse-delta{max-fraction=0.001}")
        XCTAssertEqual(strict.module.tensor(named: name)?.storage, .dense)
    }
}
