import Foundation
import XCTest

/// `bertrun bench`: the table and JSON it prints on the tiny fixture artifact (shape and fields, and
/// the FLOP count behind GFLOP/s, worked out by hand from the fixture's config; never the timings).
final class BenchCommandTests: XCTestCase {
    var tmp = ""
    var artifact = ""

    override func setUpWithError() throws {
        tmp = try TestPaths.tempDir()
        artifact = tmp + "/tiny.bin"
        let c = try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", artifact])
        XCTAssertEqual(c.code, 0, c.err)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func testOneCombinationTableAndJSON() throws {
        let json = tmp + "/bench.json"
        let r = try runTool("bertrun", ["bench", artifact, "--runs", "2", "--batch", "1", "--seq", "8", "--threads", "1",
                                        "--json", json])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.err, "")
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, r.out)  // comment line, column header, one row
        XCTAssertTrue(lines[0].hasPrefix("#") && lines[0].contains("dense-equivalent"), lines[0])
        let head = lines[1].split(separator: " ").map(String.init)
        XCTAssertEqual(head, ["batch", "seq", "threads", "median_ms", "p90_ms", "seq/s", "GFLOP/s", "isa", "startup_ms", "peak_rss_MB"])
        let row = lines[2].split(separator: " ").map(String.init)
        XCTAssertEqual(row.count, head.count, lines[2])
        XCTAssertEqual(Array(row.prefix(3)), ["1", "8", "1"])
        XCTAssertTrue(["avx512", "avx2", "portable"].contains(row[7]), row[7])

        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        XCTAssertEqual(obj["artifact"] as? String, artifact)
        XCTAssertEqual(obj["runs"] as? Int, 2)
        XCTAssertEqual(obj["isa"] as? String, row[7])
        let results = try XCTUnwrap(obj["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 1)
        let e = results[0]
        for key in ["batch", "seq", "threads", "median_ms", "p90_ms", "throughput_seq_per_s", "gflops", "isa", "startup_ms",
                    "peak_rss_bytes"] {
            XCTAssertNotNil(e[key], key)
        }
        XCTAssertEqual(e["batch"] as? Int, 1)
        XCTAssertEqual(e["seq"] as? Int, 8)
        XCTAssertEqual(e["threads"] as? Int, 1)
        let median = try XCTUnwrap(e["median_ms"] as? Double), p90 = try XCTUnwrap(e["p90_ms"] as? Double)
        XCTAssertGreaterThan(median, 0)
        XCTAssertGreaterThanOrEqual(p90, median)
        XCTAssertEqual(try XCTUnwrap(e["throughput_seq_per_s"] as? Double), 1000 / median, accuracy: 1e-6 * 1000 / median)
        XCTAssertGreaterThan(try XCTUnwrap(e["startup_ms"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(e["peak_rss_bytes"] as? Int), 1 << 20)
        // tiny-encoder: 2 layers, hidden 32, intermediate 37; B=1, S=8, so M=8 rows per encoder linear.
        // Per layer: 2*8*(4*32*32 + 2*32*37) linear + 4*1*8*8*32 attention = 111616; two layers plus
        // the pooler (2*1*32*32 on the [CLS] row) = 225280 FLOPs.
        let gflops = try XCTUnwrap(e["gflops"] as? Double)
        XCTAssertEqual(gflops * median * 1e6, 225_280, accuracy: 1)
    }

    func testEveryCombinationGetsARow() throws {
        let json = tmp + "/all.json"
        let r = try runTool("bertrun", ["bench", artifact, "--runs", "1", "--warmup", "0", "--batch", "1,2", "--seq", "4,8",
                                        "--threads", "1,2", "--json", json])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n").count, 2 + 8, r.out)
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let results = try XCTUnwrap(obj["results"] as? [[String: Any]])
        let combos = Set(results.map { "\($0["batch"]!)x\($0["seq"]!)t\($0["threads"]!)" })
        XCTAssertEqual(combos, ["1x4t1", "1x8t1", "2x4t1", "2x8t1", "1x4t2", "1x8t2", "2x4t2", "2x8t2"])
    }

    func testBadArgumentsAreUsageErrors() throws {
        for args in [["--batch", "0"], ["--seq", "8,x"], ["--runs", "0"], ["--seq", "65"], ["--threads", ""]] {
            let r = try runTool("bertrun", ["bench", artifact] + args)
            XCTAssertEqual(r.code, 64, "\(args): \(r.err)")
            XCTAssertEqual(r.out, "", "\(args)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        }
        let missing = try runTool("bertrun", ["bench", tmp + "/nope.bin", "--runs", "1"])
        XCTAssertEqual(missing.code, 1, missing.err)
        XCTAssertTrue(missing.err.contains("nope.bin"), missing.err)
        let help = try runTool("bertrun", ["bench", "--help"])
        XCTAssertEqual(help.code, 0)
        XCTAssertTrue(help.out.contains("--json"), help.out)
    }
}
