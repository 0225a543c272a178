import BertIR
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

@testable import BertDriver

/// `bertc analyze`: weight distances against numpy references (fixtures/analyze/*.json, written by
/// tools/make_analyze_reference.py), against the known masks of fixtures/masked, and hand-worked vectors.
final class AnalyzeTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    // MARK: the measures on hand-worked vectors

    func distance(_ tuned: [Float], _ base: [Float]) -> Distance {
        tuned.withUnsafeBufferPointer { a in base.withUnsafeBufferPointer { b in TensorDistance.measure([TensorPair(tuned: a, base: b)]) } }
    }

    func testMeasuresOnHandWorkedVectors() {
        // base (1, 2, 0, -1), fine-tuned (0, 2, 0, 1): diff (-1, 0, 0, 2).
        // L1 = 3/4; |b|^2 = 6, |d|^2 = 5 -> rel.Frob = sqrt(5/6); changed 2 of 4; zeroed 1 (the base's 1 became 0);
        // <a,b> = 0 + 4 + 0 - 1 = 3, |a| = sqrt(5) -> angle = acos(3 / sqrt(30)) = 56.789...°.
        let d = distance([0, 2, 0, 1], [1, 2, 0, -1])
        XCTAssertEqual(d.l1, 0.75)
        XCTAssertEqual(d.relativeFrobenius, (5.0 / 6.0).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(d.changed, 2); XCTAssertEqual(d.changedFraction, 0.5)
        XCTAssertEqual(d.zeroed, 1); XCTAssertEqual(d.zeroedFraction, 0.25)
        XCTAssertEqual(d.angleDegrees, acos(3 / 30.0.squareRoot()) * 180 / .pi, accuracy: 1e-12)
        // (1, 1) against (1, 0): 45°; opposite vectors: 180°; a scaled copy: 0° but rel.Frob 1.
        XCTAssertEqual(distance([1, 1], [1, 0]).angleDegrees, 45, accuracy: 1e-12)
        XCTAssertEqual(distance([-1, -2], [1, 2]).angleDegrees, 180, accuracy: 1e-12)
        let scaled = distance([2, 4, 6], [1, 2, 3])
        XCTAssertEqual(scaled.angleDegrees, 0, accuracy: 1e-12)
        XCTAssertEqual(scaled.relativeFrobenius, 1, accuracy: 1e-15)
    }

    func testZeroNormsAndSignedZeros() {
        // Fine-tuned all zeros: 90° by definition, rel.Frob 1, every non-zero entry zeroed.
        let gone = distance([0, 0, 0], [1, -2, 0])
        XCTAssertEqual(gone.angleDegrees, 90); XCTAssertEqual(gone.relativeFrobenius, 1); XCTAssertEqual(gone.zeroed, 2)
        // Both all zeros: 0°, rel.Frob 0. A base of zeros with a non-zero fine-tune: rel.Frob infinite.
        XCTAssertEqual(distance([0, 0], [0, 0]).angleDegrees, 0)
        XCTAssertEqual(distance([0, 0], [0, 0]).relativeFrobenius, 0)
        XCTAssertEqual(distance([0, 1], [0, 0]).relativeFrobenius, .infinity)
        XCTAssertEqual(distance([0, 1], [0, 0]).angleDegrees, 90)
        // -0.0 against +0.0: other bits (changed), but not zeroed (the base was 0) and no distance.
        let signed = distance([-0.0, 1], [0.0, 1])
        XCTAssertEqual(signed.changed, 1); XCTAssertEqual(signed.zeroed, 0); XCTAssertEqual(signed.l1, 0)
        XCTAssertEqual(signed.angleDegrees, 0)
    }

    func testAGroupIsItsTensorsConcatenated() {
        let a1: [Float] = [0.5, -1, 2], b1: [Float] = [0.25, -1, 3], a2: [Float] = [7, 0], b2: [Float] = [6, 1]
        let whole = distance(a1 + a2, b1 + b2)
        let group = a1.withUnsafeBufferPointer { pa1 in b1.withUnsafeBufferPointer { pb1 in
            a2.withUnsafeBufferPointer { pa2 in b2.withUnsafeBufferPointer { pb2 in
                TensorDistance.measure([TensorPair(tuned: pa1, base: pb1), TensorPair(tuned: pa2, base: pb2)])
            } } } }
        XCTAssertEqual(group.elements, 5); XCTAssertEqual(group.changed, 4); XCTAssertEqual(group.zeroed, 1)
        XCTAssertEqual(group.l1, whole.l1, accuracy: 1e-15)
        XCTAssertEqual(group.angleDegrees, whole.angleDegrees, accuracy: 1e-12)
        XCTAssertEqual(group.relativeFrobenius, whole.relativeFrobenius, accuracy: 1e-15)
    }

    func testLayersAndTypesOfNames() {
        let cases: [(String, String, Int?, String)] = [
            ("embeddings.word_embeddings.weight", "embeddings", nil, "embeddings"),
            ("encoder.layer.0.attention.self.query.weight", "encoder.layer.0", 0, "query"),
            ("encoder.layer.11.attention.self.value.bias", "encoder.layer.11", 11, "value"),
            ("encoder.layer.3.attention.output.dense.weight", "encoder.layer.3", 3, "attention.output.dense"),
            ("encoder.layer.3.attention.output.LayerNorm.bias", "encoder.layer.3", 3, "attention.output.LayerNorm"),
            ("encoder.layer.2.intermediate.dense.weight", "encoder.layer.2", 2, "intermediate.dense"),
            ("encoder.layer.2.output.dense.bias", "encoder.layer.2", 2, "output.dense"),
            ("encoder.layer.2.output.LayerNorm.weight", "encoder.layer.2", 2, "output.LayerNorm"),
            ("pooler.dense.weight", "pooler", nil, "pooler"),
            ("classifier.bias", "classifier", nil, "classifier"),
        ]
        for (name, layer, depth, type) in cases {
            XCTAssertEqual(WeightPlace(name), WeightPlace(layer: layer, depth: depth, type: type), name)
        }
    }

    // MARK: against the numpy references

    /// Every number of `bertc analyze --json` within 1e-9 relative of the reference (0 exactly where it is 0).
    func checkReference(_ name: String) throws {
        let ref = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("analyze/\(name).json")))) as! [String: Any]
        let r = try runTool("bertc", ["analyze", TestPaths.fixture(ref["finetuned"] as! String),
                                      "--base", TestPaths.fixture(ref["base"] as! String), "--json"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.err, "")
        let got = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        compareMeasures(got["overall"], ref["overall"], "\(name) overall")
        for (list, key) in [("tensors", "name"), ("layers", "layer")] {
            let g = byKey(got[list], key), e = byKey(ref[list], key)
            XCTAssertEqual(Set(g.keys), Set(e.keys), "\(name) \(list)")
            for (k, v) in e { compareMeasures(g[k], v, "\(name) \(list) \(k)") }
        }
        for (k, v) in byKey(ref["tensors"], "name") {
            let g = byKey(got["tensors"], "name")[k]
            XCTAssertEqual(g?["shape"] as? [Int], v["shape"] as? [Int], k)
            XCTAssertEqual(g?["layer"] as? String, v["layer"] as? String, k)
            XCTAssertEqual(g?["type"] as? String, v["type"] as? String, k)
        }
        let gTypes = byKey(got["types"], "type"), eTypes = byKey(ref["types"], "type")
        XCTAssertEqual(Set(gTypes.keys), Set(eTypes.keys), "\(name) types")
        for (t, v) in eTypes {
            let g = byKey(gTypes[t]?["points"], "layer"), e = byKey(v["points"], "layer")
            XCTAssertEqual(Set(g.keys), Set(e.keys), "\(name) type \(t)")
            for (l, p) in e { compareMeasures(g[l], p, "\(name) type \(t) at \(l)") }
        }
        for key in ["added", "removed"] {
            XCTAssertEqual(Set(byKey(got[key], "name").keys), Set(byKey(ref[key], "name").keys), "\(name) \(key)")
        }
        let gc = (got["critical_layers"] as! [[String: Any]]), ec = (ref["critical_layers"] as! [[String: Any]])
        XCTAssertEqual(gc.map { $0["layer"] as! String }, ec.map { $0["layer"] as! String }, "\(name) critical layers")
    }

    func byKey(_ any: Any?, _ key: String) -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for o in any as? [[String: Any]] ?? [] { out[o[key] as! String] = o }
        return out
    }

    func compareMeasures(_ got: Any?, _ expected: Any?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let g = got as? [String: Any], let e = expected as? [String: Any] else {
            XCTFail("\(what): missing", file: file, line: line); return
        }
        for key in ["elements", "changed", "zeroed"] {
            XCTAssertEqual(g[key] as? Int, e[key] as? Int, "\(what) \(key)", file: file, line: line)
        }
        for key in ["l1", "angle_degrees", "relative_frobenius", "changed_fraction", "zeroed_fraction"] {
            if e[key] is NSNull { XCTAssertTrue(g[key] is NSNull, "\(what) \(key)", file: file, line: line); continue }
            guard let x = (g[key] as? NSNumber)?.doubleValue, let y = (e[key] as? NSNumber)?.doubleValue else {
                XCTFail("\(what) \(key): not a number", file: file, line: line); continue
            }
            if y == 0 { XCTAssertEqual(x, 0, "\(what) \(key)", file: file, line: line); continue }
            XCTAssertLessThanOrEqual(abs(x - y) / abs(y), 1e-9, "\(what) \(key): \(x) vs \(y)", file: file, line: line)
        }
    }

    func testMaskedEncoderMatchesReference() throws { try checkReference("mask10") }
    func testSparseDeltaMatchesReference() throws { try checkReference("delta") }
    func testBFloat16RoundingMatchesReference() throws { try checkReference("bf16") }
    func testAddedHeadMatchesReference() throws { try checkReference("head-only") }

    // MARK: against what the fixtures are known to be

    /// encoder-mask10 zeroes exactly 102 of 1024 entries of layer 1's [32,32] weights and 118 of 1184 of its
    /// [37,32]/[32,37] weights (fixtures/README.md); nothing else differs.
    func testZeroedFractionsAreTheMasks() throws {
        let a = try AnalyzeCommand.analyze(tunedPath: TestPaths.fixture("masked/encoder-mask10"),
                                           basePath: TestPaths.fixture("models/tiny-encoder"))
        let masked: [String: (Int, Int)] = [
            "attention.self.query.weight": (102, 1024), "attention.self.key.weight": (102, 1024),
            "attention.self.value.weight": (102, 1024), "attention.output.dense.weight": (102, 1024),
            "intermediate.dense.weight": (118, 1184), "output.dense.weight": (118, 1184),
        ]
        XCTAssertEqual(a.tensors.count, 39)
        for t in a.tensors {
            let known = t.name.hasPrefix("encoder.layer.1.") ? masked[String(t.name.dropFirst("encoder.layer.1.".count))] : nil
            let (k, n) = known ?? (0, t.distance.elements)
            XCTAssertEqual(t.distance.elements, n, t.name)
            XCTAssertEqual(t.distance.zeroed, k, t.name)
            XCTAssertEqual(t.distance.changed, k, t.name)
            XCTAssertEqual(t.distance.zeroedFraction, Double(k) / Double(n), t.name)
            if k == 0 { XCTAssertEqual(t.distance.l1, 0, t.name); XCTAssertEqual(t.distance.angleDegrees, 0, t.name) }
        }
        XCTAssertEqual(a.layers.map(\.name), ["embeddings", "encoder.layer.0", "encoder.layer.1", "pooler"])
        XCTAssertEqual(a.layers[2].distance.zeroed, 4 * 102 + 2 * 118)
        XCTAssertEqual(a.candidates.map(\.name), ["encoder.layer.1"])
        XCTAssertTrue(a.added.isEmpty && a.removed.isEmpty)
    }

    /// The same weights in another layout (sharded safetensors, TensorFlow) are at distance exactly 0; no candidates.
    func testIdenticalCheckpointsGiveZeros() throws {
        let a = try AnalyzeCommand.analyze(tunedPath: TestPaths.fixture("models/tiny-encoder-sharded"),
                                           basePath: TestPaths.fixture("models/tiny-encoder"))
        XCTAssertEqual(a.overall.elements, 32266)
        for d in a.tensors.map(\.distance) + a.layers.map(\.distance) + [a.overall] {
            XCTAssertEqual([d.l1, d.angleDegrees, d.relativeFrobenius, d.changedFraction, d.zeroedFraction], [0, 0, 0, 0, 0])
        }
        XCTAssertTrue(a.candidates.isEmpty)
        XCTAssertTrue(AnalysisTable.format(a).contains("critical-layer candidates (moved most, by relative Frobenius change): none"))
        // tiny-classifier as a Google TensorFlow checkpoint (other names, transposed kernels) against its safetensors.
        let tf = try AnalyzeCommand.analyze(tunedPath: TestPaths.fixture("tf/tiny-classifier"),
                                            basePath: TestPaths.fixture("models/tiny-classifier"))
        XCTAssertEqual(tf.layers.map(\.name), ["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2", "pooler", "classifier"])
        XCTAssertTrue(tf.added.isEmpty && tf.removed.isEmpty)
        XCTAssertEqual(tf.overall.changed, 0)
        XCTAssertEqual(tf.overall.angleDegrees, 0)
    }

    /// The fine-tune that only added a head: the head is listed as added, the encoder unchanged.
    func testAddedHeadIsListed() throws {
        let r = try runTool("bertc", ["analyze", TestPaths.fixture("models/tiny-classifier-ft"),
                                      "--base", TestPaths.fixture("models/tiny-encoder")])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.contains("only in the fine-tuned model: classifier.weight [2, 32], classifier.bias [2]"), r.out)
        XCTAssertFalse(r.out.contains("only in the base"))
        // The reverse: the head exists only in the base.
        let back = try runTool("bertc", ["analyze", TestPaths.fixture("models/tiny-encoder"),
                                         "--base", TestPaths.fixture("models/tiny-classifier-ft")])
        XCTAssertTrue(back.out.contains("only in the base: classifier.weight [2, 32], classifier.bias [2]"), back.out)
    }

    func testTextTableAndTop() throws {
        let r = try runTool("bertc", ["analyze", TestPaths.fixture("pytorch/tiny-encoder-bf16"),
                                      "--base", TestPaths.fixture("models/tiny-encoder"), "--top", "2"])
        XCTAssertEqual(r.code, 0, r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("layer ") && $0.contains("angle(deg)") && $0.contains("zeroed") })
        for layer in ["embeddings", "encoder.layer.0", "encoder.layer.1", "pooler", "all"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix(layer + " ") }, layer)
        }
        XCTAssertEqual(lines.filter { $0.hasPrefix("encoder.layer.0.") }.count, 16)
        let ref = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("analyze/bf16.json")))) as! [String: Any]
        let top2 = (ref["critical_layers"] as! [[String: Any]]).prefix(2).map { $0["layer"] as! String }
        let line = lines.first { $0.hasPrefix("critical-layer candidates") } ?? ""
        XCTAssertEqual(line.components(separatedBy: "), ").count, 2, line)
        for l in top2 { XCTAssertTrue(line.contains(l + " ("), line) }
    }

    // MARK: the figure

    func testSVGIsWellFormedWithOneLinePerType() throws {
        let svg = tmp + "/closeness.svg"
        let r = try runTool("bertc", ["analyze", TestPaths.fixture("masked/encoder-mask50"),
                                      "--base", TestPaths.fixture("models/tiny-encoder"), "--svg", svg, "--json"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(r.out.utf8)), "stdout is still the JSON")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp), ["closeness.svg"], "no temp file left")
        let data = try Data(contentsOf: URL(fileURLWithPath: svg))
        let collector = SVGCollector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "well-formed XML: \(String(describing: parser.parserError))")
        XCTAssertEqual(collector.root, "svg")
        // 8 encoder types over 2 layers: a polyline each, in each of the 3 panels.
        XCTAssertEqual(collector.count["polyline", default: 0], 3 * 8)
        for label in ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.LayerNorm",
                      "embeddings", "pooler", "emb", "0", "1", "pool", "angular distance (degrees)", "layer (depth)"] {
            XCTAssertTrue(collector.texts.contains(label), "missing text '\(label)'")
        }
    }

    // MARK: errors

    func testShapeMismatchIsOneLineError() throws {
        let tuned = TestPaths.fixture("models/tiny-classifier")
        let r = try runTool("bertc", ["analyze", tuned, "--base", TestPaths.fixture("models/tiny-encoder")])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.out, "")
        XCTAssertTrue(r.err.hasPrefix("bertc: error: \(tuned): tensor 'embeddings.word_embeddings.weight' has shape [483, 48]"), r.err)
        XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, r.err)
        assertBertError(["has shape", "[483, 32]"]) {
            _ = try AnalyzeCommand.analyze(tunedPath: tuned, basePath: TestPaths.fixture("models/tiny-encoder"))
        }
    }

    func testCommandLineErrors() throws {
        let enc = TestPaths.fixture("models/tiny-encoder")
        for (args, code, needle) in [
            (["analyze", enc], Int32(64), "missing --base <base>"),
            (["analyze", "--base", enc], 64, "missing <finetuned>"),
            (["analyze", enc, enc, "--base", enc], 64, "expected one <finetuned>"),
            (["analyze", enc, "--base", enc, "--top", "-1"], 64, "--top expects an integer"),
            (["analyze", enc, "--base", enc, "--bogus"], 64, "unknown option '--bogus'"),
            (["analyze", tmp + "/none", "--base", enc], 1, "\(tmp)/none: no such file or directory"),
            (["analyze", enc, "--base", enc, "--svg", tmp + "/no/dir/x.svg"], 1, "\(tmp)/no/dir/x.svg: cannot create"),
        ] {
            let r = try runTool("bertc", args)
            XCTAssertEqual(r.code, code, "\(args): \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("bertc: error: ") && r.err.contains(needle), "\(args): \(r.err)")
            XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, r.err)
        }
        let help = try runTool("bertc", ["analyze", "--help"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.out.contains("in degrees"))
        XCTAssertTrue(try runTool("bertc", ["--help"]).out.contains("analyze"))
    }

    func testArtifactIsRefused() throws {
        let out = tmp + "/ft.bin"
        _ = try Compiler.compile(model: TestPaths.fixture("models/tiny-classifier-ft"), base: nil, output: out)
        let r = try runTool("bertc", ["analyze", out, "--base", TestPaths.fixture("models/tiny-encoder")])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("\(out): is a bertc artifact"), r.err)
    }

    // MARK: the real model

    /// The masked MiniLM (tools/make_minilm_masked.py): exactly 14,746 of 147,456 and 58,982 of 589,824 entries
    /// zeroed in each linear weight of layers 3-5, nothing else changed; those three layers are the candidates.
    func testMaskedMiniLMZeroedEntries() throws {
        guard let base = TestPaths.miniLM else { XCTFail("all-MiniLM-L6-v2 not found: run tools/fetch_minilm.sh"); return }
        let masked = TestPaths.repoRoot.appendingPathComponent(".models/minilm-masked10").path
        guard FileManager.default.fileExists(atPath: masked + "/model.safetensors") else {
            XCTFail("masked MiniLM not found: run tools/make_minilm_masked.py --model-only (tools/test.sh does)"); return
        }
        let a = try AnalyzeCommand.analyze(tunedPath: masked, basePath: base)
        let linear = ["attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight",
                      "attention.output.dense.weight", "intermediate.dense.weight", "output.dense.weight"]
        for t in a.tensors {
            let d = t.place.depth ?? -1
            let isMasked = (3...5).contains(d) && linear.contains { t.name.hasSuffix("." + $0) }
            let expected = !isMasked ? 0 : (t.distance.elements == 147_456 ? 14_746 : 58_982)
            if isMasked { XCTAssertTrue([147_456, 589_824].contains(t.distance.elements), t.name) }
            XCTAssertEqual(t.distance.zeroed, expected, t.name)
            XCTAssertEqual(t.distance.changed, expected, t.name)
        }
        XCTAssertEqual(Set(a.candidates.map(\.name)), ["encoder.layer.3", "encoder.layer.4", "encoder.layer.5"])
    }
}

/// Collects element names and text of an SVG document.
final class SVGCollector: NSObject, XMLParserDelegate {
    var root: String?
    var count: [String: Int] = [:]
    var texts: Set<String> = []
    private var current = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        count[name, default: 0] += 1
        current = ""
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.insert(current) }
        current = ""
    }
}
