/// Tests of the `to-csr` pass (density of linear weights and the CSR decision) on the tiny-classifier
/// checkpoint with entries zeroed here, and of the one-line printing of fully shared encoder layers
/// (`layer @encoder.layer.<i> ...`): round trips, sizes and malformed lines.
import XCTest
import BertIR
import BertCheckpoint
import BertPasses

final class ToCSRTests: XCTestCase {
    /// tiny-classifier: 3 layers, hidden 48, intermediate 64.
    func load() throws -> LoadedModel {
        try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-classifier"))
    }

    /// Replaces the data of `name` by a copy with every entry whose flat index fails `keep` set to 0.
    func zero(_ w: WeightStore, _ name: String, keep: (Int) -> Bool) throws {
        let t = try XCTUnwrap(w[name], name)
        var values = Array(t.buffer)
        XCTAssertEqual(values.filter { $0 == 0 }.count, 0, "\(name) should start without zeros")
        for i in values.indices where !keep(i) { values[i] = 0 }
        w[name] = TensorBuffer(shape: t.shape, values: values)
    }

    func run(_ pipeline: String, _ m: Module, _ w: WeightStore) throws -> PassContext {
        let ctx = PassContext(module: m, weights: w, file: "tiny-classifier")
        try PassPipeline(parsing: pipeline, verifyEach: true).run(ctx)
        return ctx
    }

    static let q0 = "encoder.layer.0.attention.self.query.weight"     // [48, 48] = 2304 entries
    static let up1 = "encoder.layer.1.intermediate.dense.weight"      // [64, 48] = 3072 entries
    static let down2 = "encoder.layer.2.output.dense.weight"          // [48, 64] = 3072 entries

    /// Zeroes q0 to every 10th entry (231 of 2304 kept), up1 to every 2nd (1536, 0.5), down2 to every 4th (768, 0.25).
    func sparsified() throws -> LoadedModel {
        let model = try load()
        try zero(model.weights, Self.q0) { $0 % 10 == 0 }
        try zero(model.weights, Self.up1) { $0 % 2 == 0 }
        try zero(model.weights, Self.down2) { $0 % 4 == 0 }
        return model
    }

    func testDefaultThresholdDecisions() throws {
        let model = try sparsified()
        XCTAssertEqual(model.module.tensor(named: Self.q0)?.shape, [48, 48])
        XCTAssertEqual(model.module.tensor(named: Self.up1)?.shape, [64, 48])
        XCTAssertEqual(model.module.tensor(named: Self.down2)?.shape, [48, 64])
        let ctx = try run("verify,to-csr", model.module, model.weights)
        let m = ctx.module
        func decl(_ n: String) throws -> TensorDecl { try XCTUnwrap(m.tensor(named: n), n) }

        XCTAssertEqual(try decl(Self.q0).storage, .csr)
        XCTAssertEqual(try decl(Self.q0).compute, .csr)
        XCTAssertEqual(try decl(Self.q0).attributes[attr: "density"], .float(231.0 / 2304.0))
        XCTAssertEqual(try decl(Self.up1).storage, .dense)
        XCTAssertEqual(try decl(Self.up1).compute, .dense)
        XCTAssertEqual(try decl(Self.up1).attributes[attr: "density"], .float(0.5))
        XCTAssertEqual(try decl(Self.down2).storage, .csr)
        XCTAssertEqual(try decl(Self.down2).compute, .csr)
        XCTAssertEqual(try decl(Self.down2).attributes[attr: "density"], .float(0.25))
        XCTAssertEqual(ctx.statistic("to-csr", "tensors-csr"), 2)
        XCTAssertEqual(ctx.statistic("to-csr", "nnz-total"), 231 + 768)

        // Every other linear weight (6 per layer x 3, pooler, classifier = 20 in all) is dense with density 1.0;
        // biases, layer norms and embedding tables get no density.
        var linearWeights = 0
        for t in m.tensors {
            let isLinearWeight = t.name.hasSuffix(".weight") && t.shape.count == 2 && !t.name.hasPrefix("embeddings.")
            if isLinearWeight { linearWeights += 1 } else {
                XCTAssertNil(t.attributes[attr: "density"], t.name)
                XCTAssertEqual(t.storage, .dense, t.name)
                continue
            }
            if [Self.q0, Self.up1, Self.down2].contains(t.name) { continue }
            XCTAssertEqual(t.attributes[attr: "density"], .float(1.0), t.name)
            XCTAssertEqual(t.compute, .dense, t.name)
        }
        XCTAssertEqual(linearWeights, 20)
        XCTAssertEqual(ToCSRPass.linearWeights(m).count, 20)

        // The result still verifies (csr tensors keep their data) and round-trips through the text.
        XCTAssertNoThrow(try Verifier.verify(m, weights: ctx.weights))
        let text = IRPrinter.print(m)
        XCTAssertTrue(text.contains("tensor @\(Self.down2) : f32[48, 64] {storage = csr, compute = csr, density = 0.25}"), text)
        XCTAssertEqual(try IRParser.parse(text), m)
    }

    func testThresholdOption() throws {
        XCTAssertEqual(try ToCSRPass(options: [:]).maxDensity, 0.40)
        // 0.2: q0 (0.1003) goes CSR, down2 (0.25) does not.
        var model = try sparsified()
        var ctx = try run("to-csr{max-density=0.2}", model.module, model.weights)
        XCTAssertEqual(ctx.module.tensor(named: Self.q0)?.compute, .csr)
        XCTAssertEqual(ctx.module.tensor(named: Self.down2)?.compute, .dense)
        XCTAssertEqual(ctx.module.tensor(named: Self.down2)?.storage, .dense)
        XCTAssertEqual(ctx.statistic("to-csr", "nnz-total"), 231)
        // 0.6: up1 (0.5) joins.
        model = try sparsified()
        ctx = try run("to-csr{max-density=0.6}", model.module, model.weights)
        XCTAssertEqual(ctx.module.tensor(named: Self.up1)?.storage, .csr)
        XCTAssertEqual(ctx.statistic("to-csr", "tensors-csr"), 3)
        XCTAssertEqual(ctx.statistic("to-csr", "nnz-total"), 231 + 1536 + 768)
        for bad in ["-0.1", "1.01", "nan", "inf", "", "30%"] {
            XCTAssertThrowsError(try PassPipeline(parsing: "to-csr{max-density=\(bad)}"), bad) { e in
                XCTAssertTrue(String(describing: e).contains("expects a number between 0 and 1"), "\(e)")
            }
        }
    }

    func testMasksKeepStorageAndUseRecordedDensity() throws {
        let model = try sparsified()
        var m = model.module
        // A mask with the density eliminate-zeros recorded (0.1; the data is not consulted) executes as CSR.
        let k0 = "encoder.layer.0.attention.self.key.weight"
        var i = try XCTUnwrap(m.tensorIndex(named: k0))
        m.tensors[i].storage = .mask
        m.tensors[i].compute = .masked
        m.tensors[i].attributes = [NamedAttribute("zeroed", .int(2074)), NamedAttribute("density", .float(0.1))]
        // A mask without the attribute: counted over its effective values (q0's data: 231 of 2304).
        i = try XCTUnwrap(m.tensorIndex(named: Self.q0))
        m.tensors[i].storage = .mask
        m.tensors[i].compute = .masked
        // A mask above the threshold keeps compute masked.
        i = try XCTUnwrap(m.tensorIndex(named: Self.up1))
        m.tensors[i].storage = .mask
        m.tensors[i].compute = .masked
        let ctx = try run("to-csr", m, model.weights)
        let key = try XCTUnwrap(ctx.module.tensor(named: k0))
        XCTAssertEqual([key.storage.rawValue, key.compute.rawValue], ["mask", "csr"])
        XCTAssertEqual(key.attributes, [NamedAttribute("zeroed", .int(2074)), NamedAttribute("density", .float(0.1))])
        let q = try XCTUnwrap(ctx.module.tensor(named: Self.q0))
        XCTAssertEqual([q.storage.rawValue, q.compute.rawValue], ["mask", "csr"])
        XCTAssertEqual(q.attributes[attr: "density"], .float(231.0 / 2304.0))
        let up = try XCTUnwrap(ctx.module.tensor(named: Self.up1))
        XCTAssertEqual([up.storage.rawValue, up.compute.rawValue], ["mask", "masked"])
        XCTAssertEqual(up.attributes[attr: "density"], .float(0.5))
        // k0: round(0.1 * 2304) = 230; q0: 231; down2 (dense -> csr): 768.
        XCTAssertEqual(ctx.statistic("to-csr", "tensors-csr"), 3)
        XCTAssertEqual(ctx.statistic("to-csr", "nnz-total"), 230 + 231 + 768)
    }

    func testSharedWeightsAreLeftAlone() throws {
        let model = try sparsified()
        var m = model.module
        let i = try XCTUnwrap(m.tensorIndex(named: Self.q0))
        m.tensors[i].storage = .shared
        let ctx = try run("to-csr", m, model.weights)
        XCTAssertEqual(ctx.module.tensors[i], TensorDecl(name: Self.q0, shape: [48, 48], storage: .shared))
        XCTAssertEqual(ctx.statistic("to-csr", "tensors-csr"), 1)
    }

    func testMismatchedDataIsAnErrorNotACrash() throws {
        let model = try load()
        model.weights[Self.q0] = TensorBuffer(shape: [2, 3], values: [1, 0, 0, 0, 0, 0])
        let ctx = PassContext(module: model.module, weights: model.weights, file: "x.ir")
        XCTAssertThrowsError(try PassPipeline(parsing: "to-csr").run(ctx)) { e in
            XCTAssertEqual(e as? BertError, BertError("x.ir", "tensor @\(Self.q0): declared shape [48, 48] but data has shape [2, 3]"))
        }
        model.weights[Self.q0] = nil
        XCTAssertThrowsError(try PassPipeline(parsing: "to-csr").run(ctx)) { e in
            XCTAssertEqual(e as? BertError, BertError("x.ir", "tensor @\(Self.q0): storage is dense but there is no data for it"))
        }
    }

    func testNonzeroCount() {
        let values: [Float] = [0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .nan, .infinity, 1, 0]
        XCTAssertEqual(values.withUnsafeBufferPointer { ToCSRPass.nonzeroCount($0) }, 5)
        XCTAssertEqual([Float]().withUnsafeBufferPointer { ToCSRPass.nonzeroCount($0) }, 0)
    }
}

final class SharedLayerLineTests: XCTestCase {
    /// tiny-classifier with every tensor of encoder layer 1 shared.
    func moduleWithSharedLayer() throws -> Module {
        var m = try CheckpointLoader.load(path: TestPaths.fixture("models/tiny-classifier")).module
        for i in m.tensors.indices where m.tensors[i].name.hasPrefix("encoder.layer.1.") { m.tensors[i].storage = .shared }
        return m
    }

    func testSharedLayerPrintsAsOneLineAndRoundTrips() throws {
        let m = try moduleWithSharedLayer()
        let text = IRPrinter.print(m)
        let lines = text.components(separatedBy: "\n")
        let layerLines = lines.filter { $0.hasPrefix("  layer ") }
        XCTAssertEqual(layerLines.count, 1)
        let line = try XCTUnwrap(layerLines.first)
        XCTAssertTrue(line.hasPrefix("  layer @encoder.layer.1 {storage = shared, tensors = 16} = [@attention.self.query.weight : f32[48, 48], @attention.self.query.bias : f32[48], "), line)
        XCTAssertTrue(line.hasSuffix(", @output.LayerNorm.weight : f32[48], @output.LayerNorm.bias : f32[48]]"), line)
        XCTAssertFalse(text.contains("tensor @encoder.layer.1."))
        XCTAssertEqual(lines.filter { $0.hasPrefix("  tensor @encoder.layer.0.") }.count, 16)
        XCTAssertEqual(lines.filter { $0.hasPrefix("  tensor @encoder.layer.2.") }.count, 16)
        // The layer line comes where layer 1's first tensor was: after layer 0's last, before layer 2's first.
        let at = try XCTUnwrap(lines.firstIndex(of: line))
        XCTAssertEqual(lines[at - 1], "  tensor @encoder.layer.0.output.LayerNorm.bias : f32[48] {storage = dense, compute = dense}")
        XCTAssertTrue(lines[at + 1].hasPrefix("  tensor @encoder.layer.2.attention.self.query.weight : f32[48, 48]"))

        let parsed = try IRParser.parse(text)
        XCTAssertEqual(parsed, m)
        XCTAssertEqual(IRPrinter.print(parsed), text)
        XCTAssertNoThrow(try Verifier.verify(parsed))

        // Without grouping, the same module prints its 16 tensor lines, which parse to the same module.
        let flat = IRPrinter.print(m, options: IRPrintOptions(groupSharedLayers: false))
        XCTAssertFalse(flat.contains("layer @"))
        XCTAssertEqual(flat.components(separatedBy: "\n").filter { $0.hasPrefix("  tensor @encoder.layer.1.") }.count, 16)
        XCTAssertEqual(try IRParser.parse(flat), m)
    }

    func testAnnotatedSizeIsTheLayerTotal() throws {
        let text = IRPrinter.print(try moduleWithSharedLayer(), options: IRPrintOptions(annotateSizes: true))
        // q, k, v, o: 4 x 48x48; 4 biases of 48; two layer norms of 2 x 48; up 64x48 + 64; down 48x64 + 48.
        let elements = 4 * 48 * 48 + 4 * 48 + 2 * 2 * 48 + 64 * 48 + 64 + 48 * 64 + 48
        XCTAssertEqual(elements * 4, 63424)   // 61.94 KiB
        let line = try XCTUnwrap(text.components(separatedBy: "\n").first { $0.hasPrefix("  layer @") })
        XCTAssertTrue(line.hasSuffix("]  // shared with base (61.9 KiB)"), line)
        XCTAssertEqual(try IRParser.parse(text), try moduleWithSharedLayer())
    }

    func testPartlySharedOrScatteredLayersPrintTensorByTensor() throws {
        var m = try moduleWithSharedLayer()
        // One tensor of layer 1 dense again: no layer line.
        let i = try XCTUnwrap(m.tensorIndex(named: "encoder.layer.1.output.dense.bias"))
        m.tensors[i].storage = .dense
        XCTAssertFalse(IRPrinter.print(m).contains("layer @"))
        XCTAssertEqual(ShareBasePass.sharedLayers(m), [])
        // All shared but one tensor moved away from the others: counted as shared, printed tensor by tensor.
        m.tensors[i].storage = .shared
        let moved = m.tensors.remove(at: i)
        m.tensors.append(moved)
        XCTAssertEqual(ShareBasePass.sharedLayers(m), ["encoder.layer.1"])
        let text = IRPrinter.print(m)
        XCTAssertFalse(text.contains("layer @"))
        XCTAssertEqual(try IRParser.parse(text), m)
        // Literal data for a shared tensor also keeps the layer apart (the line has no place for it).
        m.tensors.insert(m.tensors.removeLast(), at: i)
        let w = WeightStore()
        w["encoder.layer.1.output.dense.bias"] = TensorBuffer(shape: [48], values: Array(repeating: 0.5, count: 48))
        XCTAssertFalse(IRPrinter.print(m, options: IRPrintOptions(literals: w)).contains("layer @"))
        XCTAssertTrue(IRPrinter.print(m).contains("layer @encoder.layer.1 "))
    }

    func testEncoderLayerNames() {
        XCTAssertEqual(IRPrinter.encoderLayer(of: "encoder.layer.0.attention.self.query.weight"), "encoder.layer.0")
        XCTAssertEqual(IRPrinter.encoderLayer(of: "encoder.layer.11.x"), "encoder.layer.11")
        XCTAssertNil(IRPrinter.encoderLayer(of: "encoder.layer.1"))
        XCTAssertNil(IRPrinter.encoderLayer(of: "encoder.layer.1."))
        XCTAssertNil(IRPrinter.encoderLayer(of: "encoder.layer..x"))
        XCTAssertNil(IRPrinter.encoderLayer(of: "encoder.layer.1a.x"))
        XCTAssertNil(IRPrinter.encoderLayer(of: "bert.encoder.layer.1.x"))
        XCTAssertNil(IRPrinter.encoderLayer(of: "pooler.dense.weight"))
    }

    /// Random damage to a layer line parses or fails with a located BertError, never crashes; whatever
    /// parses prints and parses back to the same module.
    func testDamagedLayerLinesNeverCrash() {
        let seed = Array("module @m {\n  layer @encoder.layer.3 {storage = shared, tensors = 2} = [@a.weight : f32[2, 2] {compute = csr, density = 0.5}, @a.bias : f32[2]]\n  tensor @encoder.layer.4.b : f32[1] {storage = dense, compute = dense}\n}\n")
        let alphabet = Array("{}[]<>,:=@%.0123456789 \nlayertnsoc_shared")
        var rng = SplitMix(state: 0xC5A)
        var parsed = 0, failed = 0
        for _ in 0..<2000 {
            var text = seed
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let i = Int(rng.next() % UInt64(text.count))
                switch rng.next() % 3 {
                case 0: text.remove(at: i)
                case 1: text.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                default: text[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
                if text.isEmpty { break }
            }
            do {
                let m = try IRParser.parse(String(text), file: "fuzz.ir")
                parsed += 1
                let printed = IRPrinter.print(m)
                XCTAssertEqual(try IRParser.parse(printed), m, String(text))
                XCTAssertEqual(IRPrinter.print(try IRParser.parse(printed)), printed)
            } catch let e as BertError {
                failed += 1
                XCTAssertTrue(e.message.hasPrefix("line "), e.message)
            } catch {
                XCTFail("unexpected error type \(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 10)
        XCTAssertGreaterThan(failed, 100)
    }
}
