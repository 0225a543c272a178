import CBertKernels
import XCTest

/// bk_pack_weights / bk_pack_mask / bk_linear_packed at every ISA level, with and without a pool, against a
/// Double reference: plain weights, weights packed with a mask applied, and a masked task run over the
/// base's packed weights through a panel-order keep mask.
final class PackedKernelTests: XCTestCase {
    var rng = SystemRandomNumberGenerator()
    func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } }

    /// A bitmap (bit r*k + c set = zeroed) with roughly `fraction` of the entries set.
    func zeroedBits(_ n: Int, _ k: Int, fraction: Double) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: (n * k + 63) / 64)
        for i in 0..<(n * k) where Double.random(in: 0..<1, using: &rng) < fraction { words[i / 64] |= 1 << UInt64(i % 64) }
        return words
    }

    func pack(_ w: [Float], _ bits: [UInt64]?, k: Int, n: Int, pool: OpaquePointer?) -> [Float] {
        let count = Int(bk_packed_floats(Int64(k), Int64(n)))
        XCTAssertEqual(count, (n + 31) / 32 * 32 * k)
        let aligned = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        defer { aligned.deallocate() }
        let st = bits.map { b in bk_pack_weights(pool, w, b, Int64(k), Int64(n), aligned) } ?? bk_pack_weights(pool, w, nil, Int64(k), Int64(n), aligned)
        XCTAssertEqual(st, BK_OK)
        return Array(UnsafeBufferPointer(start: aligned, count: count))
    }

    func testPackedLinearMatchesReference() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let shapes = [(1, 1, 1), (3, 17, 5), (13, 40, 33), (37, 300, 64), (64, 384, 97), (25, 513, 31), (130, 64, 384), (250, 1024, 40), (493, 20, 70)]
        for (m, k, n) in shapes {
            let x = random(m * k), w = random(n * k), b = random(n)
            let bits = zeroedBits(n, k, fraction: 0.3)
            func zeroed(_ r: Int, _ c: Int) -> Bool { bits[(r * k + c) / 64] >> UInt64((r * k + c) % 64) & 1 == 1 }
            var plain = [Double](repeating: 0, count: m * n), masked = plain, norm = plain
            for i in 0..<m { for j in 0..<n {
                var s = 0.0, t = 0.0, q = 0.0
                for c in 0..<k {
                    let p = Double(x[i * k + c]) * Double(w[j * k + c])
                    s += p; q += p * p
                    if !zeroed(j, c) { t += p }
                }
                plain[i * n + j] = s + Double(b[j]); masked[i * n + j] = t + Double(b[j]); norm[i * n + j] = q.squareRoot() + abs(Double(b[j]))
            } }
            forEachISA { isa in
                for p in [pool, nil] {
                    let packed = pack(w, nil, k: k, n: n, pool: p)
                    let packedMasked = pack(w, bits, k: k, n: n, pool: p)
                    var keep = [UInt32](repeating: 0, count: Int(bk_packed_mask_words(Int64(k), Int64(n))))
                    XCTAssertEqual(bk_pack_mask(p, bits, Int64(k), Int64(n), &keep), BK_OK)
                    let runs: [(String, [Float], [UInt32]?, [Double])] = [
                        ("plain", packed, nil, plain), ("packed with mask", packedMasked, nil, masked), ("keep mask", packed, keep, masked),
                    ]
                    for (label, weights, keepMask, want) in runs {
                        var y = [Float](repeating: .nan, count: m * n)
                        let st = withAligned(weights) { wp in
                            keepMask.map { km in bk_linear_packed(p, x, Int64(m), Int64(k), wp, km, Int64(n), b, BK_EPILOGUE_NONE, &y) }
                                ?? bk_linear_packed(p, x, Int64(m), Int64(k), wp, nil, Int64(n), b, BK_EPILOGUE_NONE, &y)
                        }
                        XCTAssertEqual(st, BK_OK)
                        for i in 0..<(m * n) where !(abs(Double(y[i]) - want[i]) <= 1e-5 * max(norm[i], 1e-30)) {
                            XCTFail("\(isa) \(label) pool=\(p != nil) m=\(m) k=\(k) n=\(n) i=\(i): \(y[i]) vs \(want[i])"); return
                        }
                    }
                }
            }
        }
    }

    /// The GELU epilogue equals bk_linear_packed followed by bk_gelu_erf, bit for bit, threaded or not.
    func testGeluEpilogueEqualsSeparateGelu() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        for (m, k, n) in [(7, 33, 50), (128, 384, 1536), (1, 5, 3)] {
            let x = random(m * k), w = random(n * k), b = random(n)
            let packed = pack(w, nil, k: k, n: n, pool: nil)
            forEachISA { isa in
                for p in [pool, nil] {
                    var fused = [Float](repeating: .nan, count: m * n), separate = fused
                    withAligned(packed) { wp in
                        XCTAssertEqual(bk_linear_packed(p, x, Int64(m), Int64(k), wp, nil, Int64(n), b, BK_EPILOGUE_GELU, &fused), BK_OK)
                        XCTAssertEqual(bk_linear_packed(p, x, Int64(m), Int64(k), wp, nil, Int64(n), b, BK_EPILOGUE_NONE, &separate), BK_OK)
                    }
                    bk_gelu_erf(&separate, separate.count)
                    XCTAssertEqual(fused, separate, "\(isa) m=\(m) k=\(k) n=\(n) pool=\(p != nil)")
                }
            }
        }
    }

    func testPackedRejectsBadSizes() {
        var y = [Float](repeating: 0, count: 4)
        let x = [Float](repeating: 1, count: 4)
        XCTAssertEqual(bk_packed_floats(0, 3), 0)
        XCTAssertEqual(bk_packed_floats(3, 0), 0)
        XCTAssertEqual(bk_packed_mask_words(3, 33), 6)
        XCTAssertEqual(bk_pack_weights(nil, x, nil, 0, 2, &y), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_linear_packed(nil, x, 2, 0, x, nil, 2, nil, BK_EPILOGUE_NONE, &y), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_linear_packed(nil, x, 1, 1, x, nil, 1, nil, bk_epilogue(rawValue: 7), &y), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_linear_packed(nil, x, -1, 2, x, nil, 2, nil, BK_EPILOGUE_NONE, &y), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_linear_packed(nil, x, 0, 2, x, nil, 2, nil, BK_EPILOGUE_NONE, &y), BK_OK)
    }

    private func withAligned<R>(_ a: [Float], _ body: (UnsafePointer<Float>) -> R) -> R {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(a.count, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(a.count, 1))
        defer { p.deallocate() }
        a.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: a.count) }
        return body(p)
    }
}
