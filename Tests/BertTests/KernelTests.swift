import CBertKernels
import XCTest

/// Every kernel at every ISA level this CPU has, against naive Double-accumulated references.
final class KernelTests: XCTestCase {
    var rng = SystemRandomNumberGenerator()
    func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } }

    /// Runs `body` once per supported ISA level, then restores the detected level.
    func forEachISA(_ body: (String) throws -> Void) rethrows {
        let best = bk_isa_detect()
        defer { _ = bk_isa_set(best) }
        for level in [BK_ISA_PORTABLE, BK_ISA_AVX2, BK_ISA_AVX512] where level.rawValue <= best.rawValue {
            XCTAssertEqual(bk_isa_set(level), BK_OK)
            try body(String(cString: bk_isa_name(level)))
        }
    }

    func testLinearMatchesReference() throws {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let sizes = [1, 3, 17, 32, 37, 64, 129]
        try forEachISA { isa in
            for m in sizes { for (k, n) in [(1, 1), (32, 37), (37, 17), (384, 33), (64, 129)] {
                let x = random(m * k), w = random(n * k), b = random(n)
                var ref = [Float](repeating: 0, count: m * n)
                for i in 0..<m { for j in 0..<n {
                    var s = 0.0
                    for t in 0..<k { s += Double(x[i * k + t]) * Double(w[j * k + t]) }
                    ref[i * n + j] = Float(s) + b[j]
                } }
                for (p, bias) in [(pool, true), (nil, false)] {
                    var y = [Float](repeating: .nan, count: m * n)
                    let st = bk_linear(p, x, Int64(m), Int64(k), w, Int64(n), bias ? b : nil, &y)
                    XCTAssertEqual(st, BK_OK)
                    for i in 0..<(m * n) {
                        let want = bias ? ref[i] : ref[i] - b[i % n]
                        if abs(y[i] - want) > 1e-5 * max(1, abs(want)) * Float(max(1, k / 32)) {
                            XCTFail("\(isa) m=\(m) k=\(k) n=\(n) i=\(i): \(y[i]) vs \(want)"); return
                        }
                    }
                }
            } }
        }
    }

    func testAttentionWithPaddingMask() throws {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let (B, S, heads, D) = (3, 7, 2, 5)
        let H = heads * D
        let q = random(B * S * H), k = random(B * S * H), v = random(B * S * H)
        let lengths = [7, 4, 1]
        var mask = [Int32](repeating: 0, count: B * S)
        for b in 0..<B { for s in 0..<lengths[b] { mask[b * S + s] = 1 } }
        var ref = [Float](repeating: 0, count: B * S * H)
        for b in 0..<B { for h in 0..<heads { for i in 0..<S {
            var scores = [Double](repeating: 0, count: S)
            for j in 0..<S {
                var s = 0.0
                for d in 0..<D { s += Double(q[(b * S + i) * H + h * D + d]) * Double(k[(b * S + j) * H + h * D + d]) }
                scores[j] = s / Double(D).squareRoot() + (mask[b * S + j] == 0 ? -3.4e38 : 0)
            }
            let mx = scores.max()!
            let e = scores.map { exp($0 - mx) }
            let sum = e.reduce(0, +)
            for d in 0..<D {
                var o = 0.0
                for j in 0..<S { o += e[j] / sum * Double(v[(b * S + j) * H + h * D + d]) }
                ref[(b * S + i) * H + h * D + d] = Float(o)
            }
        } } }
        try forEachISA { isa in
            for p in [pool, nil] {
                var out = [Float](repeating: .nan, count: B * S * H)
                XCTAssertEqual(bk_attention(p, q, k, v, mask, Int64(B), Int64(S), Int64(H), Int64(heads), &out), BK_OK)
                for i in 0..<out.count { XCTAssertEqual(out[i], ref[i], accuracy: 1e-6, "\(isa) \(i)") }
            }
        }
    }

    func testLayerNormGeluTanhAdd() {
        let (rows, n) = (5, 37)
        let x = random(rows * n).map { $0 * 3 + 0.5 }, r = random(rows * n), g = random(n), b = random(n)
        var y = [Float](repeating: 0, count: rows * n)
        XCTAssertEqual(bk_layer_norm(x, r, Int64(rows), Int64(n), g, b, 1e-7, &y), BK_OK)
        for i in 0..<rows {
            let v = (0..<n).map { Double(x[i * n + $0]) + Double(r[i * n + $0]) }
            let mean = v.reduce(0, +) / Double(n)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            for j in 0..<n {
                let want = (v[j] - mean) / (variance + 1e-7).squareRoot() * Double(g[j]) + Double(b[j])
                XCTAssertEqual(Double(y[i * n + j]), want, accuracy: 1e-5)
            }
        }
        var gx = x.map { $0 * 2 }
        bk_gelu_erf(&gx, gx.count)
        for i in 0..<x.count {
            let v = Double(x[i] * 2)
            XCTAssertEqual(Double(gx[i]), v * 0.5 * (1 + erf(v / 2.0.squareRoot())), accuracy: 1e-6)
        }
        var t = x
        bk_tanh(&t, t.count)
        for i in 0..<x.count { XCTAssertEqual(Double(t[i]), tanh(Double(x[i])), accuracy: 1e-6) }
        var s = [Float](repeating: 0, count: x.count)
        bk_add(x, r, &s, x.count)
        for i in 0..<x.count { XCTAssertEqual(s[i], x[i] + r[i]) }
    }

    func testEmbeddingsBoundsAndValues() {
        let (V, P, T, H) = (10, 4, 2, 3)
        let word = random(V * H), pos = random(P * H), type = random(T * H)
        var out = [Float](repeating: 0, count: 2 * 3 * H)
        let ids: [Int32] = [1, 9, 0, 2, 3, 4], types: [Int32] = [0, 1, 1, 0, 0, 1]
        XCTAssertEqual(bk_embeddings(ids, types, 2, 3, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out), BK_OK)
        for i in 0..<6 { for d in 0..<H {
            let want = word[Int(ids[i]) * H + d] + type[Int(types[i]) * H + d] + pos[(i % 3) * H + d]
            XCTAssertEqual(out[i * H + d], want, accuracy: 1e-7)
        } }
        let bad: [Int32] = [1, 10, 0, 2, 3, 4]
        XCTAssertEqual(bk_embeddings(bad, types, 2, 3, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out), BK_ERR_ARGUMENT)
        let badType: [Int32] = [0, 2, 0, 0, 0, 0]
        XCTAssertEqual(bk_embeddings(ids, badType, 2, 3, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_embeddings(ids, types, 1, 6, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out),
                       BK_ERR_ARGUMENT, "sequence longer than the position table")
    }

    func testHalfAndBFloatWidening() {
        // Bit patterns and values from IEEE 754 binary16 / bfloat16.
        let half: [UInt16] = [0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x7C00, 0xFC00, 0x3555]
        let want: [Float] = [0, -0.0, 1, -2, 65504, 5.9604645e-08, 6.097555e-05, 6.1035156e-05, .infinity, -.infinity, 0.33325195]
        var out = [Float](repeating: 0, count: half.count)
        bk_f16_to_f32(half, &out, half.count)
        XCTAssertEqual(out, want)
        XCTAssertEqual(out[1].sign, .minus)
        var nan = [Float](repeating: 0, count: 1)
        bk_f16_to_f32([0x7E00], &nan, 1)
        XCTAssertTrue(nan[0].isNaN)
        let bf: [UInt16] = [0x3F80, 0xC040, 0x7F80, 0x0001]
        var bo = [Float](repeating: 0, count: 4)
        bk_bf16_to_f32(bf, &bo, 4)
        XCTAssertEqual(bo, [1, -3, .infinity, Float(bitPattern: 0x0001_0000)])
    }

    func testHash64KnownVectors() {
        // xxHash64 reference values (seed 0), from the algorithm's published test vectors.
        XCTAssertEqual(bk_hash64(nil, 0, 0), 0xEF46DB3751D8E999)
        let abc = Array("abc".utf8)
        XCTAssertEqual(bk_hash64(abc, abc.count, 0), 0x44BC2CF5AD770999)
        let long = Array("Nobody inspects the spammish repetition".utf8)
        XCTAssertEqual(bk_hash64(long, long.count, 0), 0xFBCEA83C8A378BF1)
    }
}
