import BertIR
import Foundation
import XCTest

@testable import BertCheckpoint

/// `bertc compile` refuses NaN and Inf weights by tensor name unless `--allow-nonfinite`.
final class NonFiniteTests: XCTestCase {
    var tmp = ""
    override func setUpWithError() throws { tmp = try TestPaths.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: tmp) }

    func testCountsNaNAndInfinityExactly() {
        var x = [Float](repeating: 1, count: 3 * 4096 + 5)
        x[0] = .nan
        x[4095] = -.infinity
        x[4096] = Float(bitPattern: 0x7FC0_0001)            // a NaN with a payload
        x[8200] = Float(bitPattern: 0xFF80_0001)            // a negative signalling NaN
        x[x.count - 1] = .infinity
        x[10] = .greatestFiniteMagnitude
        x[11] = -.leastNonzeroMagnitude
        let c = x.withUnsafeBufferPointer { NonFiniteScan.count($0) }
        XCTAssertEqual(c.nan, 3)
        XCTAssertEqual(c.inf, 2)
        XCTAssertEqual([Float]().withUnsafeBufferPointer { NonFiniteScan.count($0) }.nan, 0)
    }

    func testMessageNamesTheFirstThreeTensors() {
        let f = (0..<5).map { NonFiniteScan.Finding(name: "t\($0)", nan: $0, inf: 1) }
        XCTAssertEqual(NonFiniteScan.message(f),
                       "tensor 't0' has 1 Inf value, 't1' has 1 NaN and 1 Inf values, 't2' has 2 NaN and 1 Inf values and 2 more tensors have non-finite values")
    }

    /// A copy of tiny-encoder with NaN/Inf planted at known entries of two tensors.
    func plantedModel() throws -> String {
        let dir = tmp + "/nan"
        try FileManager.default.copyItem(atPath: TestPaths.fixture("models/tiny-encoder"), toPath: dir)
        let path = dir + "/model.safetensors"
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = (0..<8).reduce(0) { $0 | Int(b[$1]) << (8 * $1) }
        let header = try JSONSerialization.jsonObject(with: Data(b[8..<(8 + n)])) as! [String: Any]
        func plant(_ tensor: String, _ index: Int, _ v: Float) {
            let e = header[tensor] as! [String: Any]
            let at = 8 + n + ((e["data_offsets"] as! [NSNumber])[0].intValue) + 4 * index
            withUnsafeBytes(of: v.bitPattern.littleEndian) { b.replaceSubrange(at..<(at + 4), with: $0) }
        }
        for i in [0, 7, 100] { plant("encoder.layer.0.attention.self.query.weight", i, .nan) }
        plant("encoder.layer.0.attention.self.query.weight", 5, -.infinity)
        plant("pooler.dense.bias", 31, .infinity)
        try Data(b).write(to: URL(fileURLWithPath: path))
        return dir
    }

    func testCompileRefusesNonFiniteWeightsUnlessAllowed() throws {
        let model = try plantedModel()
        let out = tmp + "/task.bin"
        let r = try runTool("bertc", ["compile", model, "-o", out])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.err, "bertc: error: \(model): tensor 'encoder.layer.0.attention.self.query.weight' has 3 NaN and 1 Inf values, "
                       + "'pooler.dense.bias' has 1 Inf value (use --allow-nonfinite to compile anyway)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let allowed = try runTool("bertc", ["compile", model, "-o", out, "--allow-nonfinite"])
        XCTAssertEqual(allowed.code, 0, allowed.err)
        // The artifact holds them; --verify reports them without failing.
        let v = try runTool("bertrun", ["--verify", out])
        XCTAssertEqual(v.code, 0, v.err)
        XCTAssertTrue(v.out.contains("\(out): warning: tensor 'encoder.layer.0.attention.self.query.weight' has 3 NaN and 1 Inf values"), v.out)
        // The unmodified fixture compiles without the flag.
        XCTAssertEqual(try runTool("bertc", ["compile", TestPaths.fixture("models/tiny-encoder"), "-o", tmp + "/ok.bin"]).code, 0)
    }
}
