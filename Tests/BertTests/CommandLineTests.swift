import Foundation
import XCTest

/// The built bertc and bertrun executables: exit codes, one-line errors, no partial output.
final class CommandLineTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func testCompileAndRunClassifier() throws {
        let out = tmp + "/cls.bin"
        let c = try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-classifier"), "-o", out])
        XCTAssertEqual(c.code, 0, c.err)
        XCTAssertTrue(c.out.contains("tensors stored"), c.out)
        let input = tmp + "/in.jsonl"
        try "{\"text\": \"Good movie\"}\n{\"text\": \"Bad\", \"text_b\": \"very bad\"}\n".write(toFile: input, atomically: true, encoding: .utf8)
        let r = try runTool("bertrun", [out, "first text", "--input", input, "--threads", "2"])
        XCTAssertEqual(r.code, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        for l in lines {
            let o = try JSONSerialization.jsonObject(with: Data(l.utf8)) as! [String: Any]
            XCTAssertTrue(["negative", "neutral", "positive"].contains(o["label"] as? String ?? ""))
            let probs = floats(o["probs"])
            XCTAssertEqual(probs.count, 3)
            XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-5)
        }
    }

    func testBadModelGivesOneLineErrorAndNoOutput() throws {
        let bad = tmp + "/bad"
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-encoder/config.json"), toPath: bad + "/config.json")
        try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-encoder/vocab.txt"), toPath: bad + "/vocab.txt")
        try Data("garbage that is not safetensors".utf8).write(to: URL(fileURLWithPath: bad + "/model.safetensors"))
        let out = tmp + "/x.bin"
        let r = try runTool("bertc", ["compile", bad, "-o", out])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.contains("model.safetensors"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp).sorted(), ["bad"], "no temp files left")
    }

    func testUsageErrorsExit64() throws {
        let r = try runTool("bertc", ["compile", "--bogus"])
        XCTAssertEqual(r.code, 64)
        XCTAssertTrue(r.err.contains("unknown option '--bogus'"), r.err)
        let h = try runTool("bertrun", ["--help"])
        XCTAssertEqual(h.code, 0)
        XCTAssertTrue(h.out.contains("USAGE: bertrun"))
    }

    func testDumpShowsStorageAndSizes() throws {
        let out = tmp + "/ft.bin"
        let c = try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-classifier-ft"),
                                      "--base", TestPaths.fixture("models/tiny-encoder"), "-o", out])
        XCTAssertEqual(c.code, 0, c.err)
        let d = try runTool("bertc", ["dump", out])
        XCTAssertEqual(d.code, 0, d.err)
        XCTAssertTrue(d.out.contains("storage = shared"), d.out)
        XCTAssertTrue(d.out.contains("tensor @classifier.weight"), d.out)
        // Only the head is stored: 2 x 32 weights + 2 biases, 264 bytes, as dense.
        XCTAssertTrue(d.out.contains("//   classifier       2        264       264"), d.out)
        XCTAssertTrue(d.out.contains("(tensor data 264 bytes)"), d.out)
    }

    /// TSV input with a header, --output written whole, and --pooling overriding the model's.
    func testTSVInputOutputFileAndPooling() throws {
        let model = tmp + "/enc.bin"
        XCTAssertEqual(try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", model]).code, 0)
        let input = tmp + "/in.tsv"
        try "label\ttext\ttext_b\npos\tThe story\tthe plot was bad\nneg\tBad\tvery bad\n".write(toFile: input, atomically: true, encoding: .utf8)
        let outMean = tmp + "/mean.jsonl", outCLS = tmp + "/cls.jsonl"
        let r = try runTool("bertrun", [model, "--input", input, "--output", outMean])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out, "", "with --output nothing goes to stdout")
        XCTAssertEqual(try runTool("bertrun", [model, "--input", input, "--output", outCLS, "--pooling", "cls"]).code, 0)
        let mean = try readJSONLines(outMean), cls = try readJSONLines(outCLS)
        XCTAssertEqual(mean.count, 2)
        XCTAssertEqual(floats(mean[0]["embedding"]).count, 32)
        XCTAssertNotEqual(floats(mean[0]["embedding"]), floats(cls[0]["embedding"]))
        // The reference mean embedding of the same pair, from transformers.
        let ref = try readJSONLines(TestPaths.fixture("reference/tiny-encoder.jsonl"))
        let c = try XCTUnwrap(ref.first { ($0["text"] as? String) == "The story" && ($0["text_b"] as? String) == "the plot was bad" })
        XCTAssertLessThanOrEqual(maxAbsDiff(floats(mean[0]["embedding"]), floats(c["mean_embedding"])), 1e-5)
    }

    /// A TSV row with the wrong number of fields is reported with its line number; no output file appears.
    func testBadTSVLineIsReportedWithLineNumber() throws {
        let model = tmp + "/enc.bin"
        XCTAssertEqual(try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", model]).code, 0)
        let input = tmp + "/bad.tsv"
        try "text\tlabel\nfine\t1\nbroken\n".write(toFile: input, atomically: true, encoding: .utf8)
        let out = tmp + "/out.jsonl"
        let r = try runTool("bertrun", [model, "--input", input, "--output", out])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.err.contains("bad.tsv: line 3"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let over = try runTool("bertrun", [model, "x", "--max-length", "65"])
        XCTAssertEqual(over.code, 64, "longer than max_position_embeddings (64)")
    }

    /// The artifact dump's storage table: per tensor, per layer, overall, and the compile's counters.
    func testDumpOfMaskedArtifactReportsStorageAndComputePerTensorAndLayer() throws {
        let out = tmp + "/m90.bin"
        let c = try runTool("bertc", ["compile", TestPaths.fixture("masked/encoder-mask90"),
                                      "--base", TestPaths.fixture("models/tiny-encoder"), "-o", out])
        XCTAssertEqual(c.code, 0, c.err)
        let d = try runTool("bertc", ["dump", out, "--stats"])
        XCTAssertEqual(d.code, 0, d.err)
        let lines = d.out.split(separator: "\n").map(String.init)
        let q = try XCTUnwrap(lines.first { $0.hasPrefix("//   encoder.layer.1.attention.self.query.weight") })
        let fields = q.split(separator: " ").map(String.init)
        XCTAssertEqual(Array(fields[2...4]), ["mask", "csr", "[32,"], q)
        // 922 of 1024 zeroed: 102 kept -> density 0.0996; the mask is far smaller than 4096 dense bytes.
        XCTAssertEqual(fields[6], "0.0996", q)
        XCTAssertLessThan(Int(fields[7])!, 200, q)
        XCTAssertEqual(fields[8], "4096", q)
        XCTAssertTrue(lines.contains { $0.hasPrefix("//   encoder.layer.0  ") && $0.hasSuffix(" 0         27156") }, d.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("// total: artifact ") && $0.contains("against the dense model's 129064 bytes") })
        XCTAssertTrue(lines.contains { $0.hasSuffix("6 eliminate-zeros - tensors-masked") }, d.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("  layer @encoder.layer.0 {storage = shared, tensors = 16}") }, d.out)
    }

    /// What a checkpoint holds but bertc does not import is reported in one note line on stderr.
    func testCompileNotesSkippedTensors() throws {
        let r = try runTool("bertc", ["compile", TestPaths.fixture("tf/tiny-classifier"), "-o", tmp + "/tf.bin"])
        XCTAssertEqual(r.code, 0, r.err)
        // The fixture holds 57 weights with adam_m and adam_v slots each, and global_step.
        XCTAssertEqual(r.err, "bertc: note: \(tmp)/tf.bin: skipped 114 optimizer slot, 1 training step counter\n")
    }

    /// Several tasks over one base in one process: rows name their task; outputs come in input
    /// order and equal each task run alone.
    func testSeveralTasksOverOneBase() throws {
        let base = TestPaths.fixture("models/tiny-encoder")
        var paths: [String] = []
        for name in ["masked/encoder-mask10", "masked/encoder-mask90", "models/tiny-classifier-ft"] {
            let out = tmp + "/" + URL(fileURLWithPath: name).lastPathComponent + ".bin"
            let c = try runTool("bertc", ["compile", TestPaths.fixture(name), "--base", base, "-o", out])
            XCTAssertEqual(c.code, 0, c.err)
            paths.append(out)
        }
        let texts = ["a fresh and funny film", "rotten to the core", "the movie was good", "what?"]
        let tasks = ["encoder-mask90", "tiny-classifier-ft", "encoder-mask10.bin", "encoder-mask90"]
        var jsonl = ""
        for (t, k) in zip(texts, tasks) { jsonl += "{\"text\": \"\(t)\", \"task\": \"\(k)\"}\n" }
        let input = tmp + "/mixed.jsonl"
        try jsonl.write(toFile: input, atomically: true, encoding: .utf8)
        let r = try runTool("bertrun", paths + ["--input", input])
        XCTAssertEqual(r.code, 0, r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        let alone = ["encoder-mask90": paths[1], "tiny-classifier-ft": paths[2], "encoder-mask10.bin": paths[0]]
        for (i, (t, k)) in zip(texts, tasks).enumerated() {
            let single = try runTool("bertrun", [alone[k]!, t])
            XCTAssertEqual(single.code, 0, single.err)
            // Rows of one task run batched together, so equal within float rounding, not bit for bit.
            let together = try JSONSerialization.jsonObject(with: Data(lines[i].utf8)) as! [String: Any]
            let apart = try JSONSerialization.jsonObject(with: Data(single.out.utf8)) as! [String: Any]
            XCTAssertEqual(Set(together.keys), Set(apart.keys), "row \(i) (\(k))")
            for key in ["embedding", "logits", "probs"] where together[key] != nil {
                XCTAssertLessThanOrEqual(maxAbsDiff(floats(together[key]), floats(apart[key])), 1e-5, "row \(i) (\(k)) \(key)")
            }
            XCTAssertEqual(together["label"] as? String, apart["label"] as? String)
        }
        XCTAssertTrue(lines[1].hasPrefix("{\"label\":"), "the classifier task answers with a label")
        // A row naming no known task is refused with its line number.
        try "{\"text\": \"x\", \"task\": \"nope\"}\n".write(toFile: input, atomically: true, encoding: .utf8)
        let bad = try runTool("bertrun", paths + ["--input", input])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.contains("line 1: unknown task 'nope'"), bad.err)
    }
}
