import CBertKernels
import XCTest

/// Every kernel at every ISA level this CPU has, with and without a 2-thread pool, against naive
/// Double-accumulated Swift references on random data with odd sizes.
final class KernelTests: XCTestCase {
    var rng = SystemRandomNumberGenerator()
    func random(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) } }

    func testIsaControl() {
        let best = bk_isa_detect()
        defer { _ = bk_isa_set(best) }
        XCTAssertEqual(bk_isa_set(BK_ISA_PORTABLE), BK_OK)
        XCTAssertEqual(bk_isa_current(), BK_ISA_PORTABLE)
        if best.rawValue < BK_ISA_AVX512.rawValue {
            XCTAssertEqual(bk_isa_set(BK_ISA_AVX512), BK_ERR_UNSUPPORTED)
        }
        XCTAssertEqual(String(cString: bk_isa_name(BK_ISA_AVX2)), "avx2")
        XCTAssertNil(bk_pool_create(0))
        let pool = bk_pool_create(3)
        XCTAssertEqual(bk_pool_threads(pool), 3)
        bk_pool_destroy(pool)
        XCTAssertEqual(bk_pool_threads(nil), 1)
    }

    func testLinearMatchesReference() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let ms = [1, 3, 17, 32, 37, 64, 129, 384]
        let kns = [(1, 1), (3, 17), (17, 3), (32, 37), (37, 32), (64, 129), (384, 33), (129, 384), (300, 40)]
        for m in ms { for (k, n) in kns {
            let x = random(m * k), w = random(n * k), b = random(n)
            // Reference dot products and their magnitude (the 2-norm of the products), in Double.
            var dot = [Double](repeating: 0, count: m * n), norm = [Double](repeating: 0, count: m * n)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                for i in 0..<m { for j in 0..<n {
                    var s = 0.0, q = 0.0
                    for t in 0..<k { let p = Double(xp[i * k + t]) * Double(wp[j * k + t]); s += p; q += p * p }
                    dot[i * n + j] = s; norm[i * n + j] = q.squareRoot()
                } }
            } }
            forEachISA { isa in
                for p in [pool, nil] { for bias in [true, false] {
                    var y = [Float](repeating: .nan, count: m * n)
                    XCTAssertEqual(bk_linear(p, x, Int64(m), Int64(k), w, Int64(n), bias ? b : nil, &y), BK_OK)
                    for i in 0..<(m * n) {
                        let want = dot[i] + (bias ? Double(b[i % n]) : 0)
                        let scale = max(abs(want), norm[i], bias ? Double(abs(b[i % n])) : 0, 1e-30)
                        if !(abs(Double(y[i]) - want) <= 1e-5 * scale) {
                            XCTFail("\(isa) pool=\(p != nil) bias=\(bias) m=\(m) k=\(k) n=\(n) i=\(i): \(y[i]) vs \(want)")
                            return
                        }
                    }
                } }
            }
        } }
    }

    func testLinearRejectsBadSizesAndIsRepeatable() {
        var y = [Float](repeating: 0, count: 4)
        let x = random(4), w = random(4)
        XCTAssertEqual(bk_linear(nil, x, 2, 0, w, 2, nil, &y), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_linear(nil, x, -1, 2, w, 2, nil, &y), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_linear(nil, x, 2, 2, w, 0, nil, &y), BK_ERR_ARGUMENT)
        XCTAssertEqual(bk_linear(nil, x, 0, 2, w, 2, nil, &y), BK_OK)
        // Many pooled calls must give bit-identical results (no races in the pool or scratch).
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let (m, k, n) = (37, 96, 257)
        let a = random(m * k), b = random(n * k)
        var first = [Float](repeating: 0, count: m * n)
        XCTAssertEqual(bk_linear(pool, a, Int64(m), Int64(k), b, Int64(n), nil, &first), BK_OK)
        for _ in 0..<200 {
            var again = [Float](repeating: 0, count: m * n)
            XCTAssertEqual(bk_linear(pool, a, Int64(m), Int64(k), b, Int64(n), nil, &again), BK_OK)
            if again != first { XCTFail("pooled bk_linear is not repeatable"); return }
        }
    }

    /// Reference attention: scores + (1 - mask) * finfo(float32).min, max-subtracted softmax, in Double.
    func referenceAttention(_ q: [Float], _ k: [Float], _ v: [Float], _ mask: [Int32]?, B: Int, S: Int, heads: Int, D: Int) -> [Double] {
        let H = heads * D
        var ref = [Double](repeating: 0, count: B * S * H)
        for b in 0..<B { for h in 0..<heads { for i in 0..<S {
            var scores = [Double](repeating: 0, count: S)
            for j in 0..<S {
                var s = 0.0
                for d in 0..<D { s += Double(q[(b * S + i) * H + h * D + d]) * Double(k[(b * S + j) * H + h * D + d]) }
                scores[j] = s / Double(D).squareRoot()
                // In float32, score + finfo.min rounds to finfo.min exactly for any ordinary score.
                if let mask, mask[b * S + j] == 0 { scores[j] = -3.4028234663852886e38 }
            }
            let mx = scores.max()!
            let e = scores.map { exp($0 - mx) }
            let sum = e.reduce(0, +)
            for d in 0..<D {
                var o = 0.0
                for j in 0..<S { o += e[j] / sum * Double(v[(b * S + j) * H + h * D + d]) }
                ref[(b * S + i) * H + h * D + d] = o
            }
        } } }
        return ref
    }

    func testAttentionWithPaddingMask() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        // (batch, seq, heads, head_dim, lengths); a length of 0 masks every key of that sequence.
        let cases: [(Int, Int, Int, Int, [Int]?)] = [
            (3, 7, 2, 5, [7, 4, 1]), (2, 33, 3, 16, [33, 20]), (1, 1, 1, 1, nil), (2, 5, 4, 8, nil), (2, 6, 2, 3, [0, 6]),
            (2, 128, 2, 32, [128, 77]), (1, 70, 2, 64, nil), (2, 19, 1, 40, [19, 3]), (1, 23, 2, 80, [22]),
            // with the above, every remainder of the sequence over the AVX-512 path's 12-row blocks
            (1, 14, 2, 16, nil), (2, 15, 1, 24, [15, 9]), (1, 16, 2, 48, [10]),
        ]
        for (B, S, heads, D, lengths) in cases {
            let H = heads * D
            let q = random(B * S * H, scale: 2), k = random(B * S * H, scale: 2), v = random(B * S * H)
            var mask: [Int32]? = nil
            if let lengths {
                var mk = [Int32](repeating: 0, count: B * S)
                for b in 0..<B { for s in 0..<lengths[b] { mk[b * S + s] = 1 } }
                mask = mk
            }
            let ref = referenceAttention(q, k, v, mask, B: B, S: S, heads: heads, D: D)
            forEachISA { isa in
                for p in [pool, nil] {
                    var out = [Float](repeating: .nan, count: B * S * H)
                    let st = mask.map { bk_attention(p, q, k, v, $0, Int64(B), Int64(S), Int64(H), Int64(heads), &out) }
                        ?? bk_attention(p, q, k, v, nil, Int64(B), Int64(S), Int64(H), Int64(heads), &out)
                    XCTAssertEqual(st, BK_OK)
                    for i in 0..<out.count where !(abs(Double(out[i]) - ref[i]) <= 1e-6) {
                        XCTFail("\(isa) B=\(B) S=\(S) heads=\(heads) D=\(D) i=\(i): \(out[i]) vs \(ref[i])"); return
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: 6)
        let z = [Float](repeating: 0, count: 6)
        XCTAssertEqual(bk_attention(nil, z, z, z, nil, 1, 2, 3, 2, &out), BK_ERR_ARGUMENT, "hidden not divisible by heads")
    }

    /// Against a double reference, in place too; 300 x 384 is split between the pool's threads, and the rows
    /// come out the same bits with and without the pool.
    func testLayerNorm() {
        let threads = bk_pool_create(2)
        defer { bk_pool_destroy(threads) }
        for (rows, n) in [(5, 37), (1, 1), (3, 384), (17, 3), (300, 384)] {
            let x = random(rows * n).map { $0 * 3 + 0.5 }, r = random(rows * n), g = random(n), b = random(n)
            for residual in [true, false] {
                var want = [Double](repeating: 0, count: rows * n)
                for i in 0..<rows {
                    let v = (0..<n).map { Double(x[i * n + $0]) + (residual ? Double(r[i * n + $0]) : 0) }
                    let mean = v.reduce(0, +) / Double(n)
                    let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
                    for j in 0..<n { want[i * n + j] = (v[j] - mean) / (variance + 1e-12).squareRoot() * Double(g[j]) + Double(b[j]) }
                }
                forEachISA { isa in for pool in [threads, nil] {
                    var y = [Float](repeating: .nan, count: rows * n), single = y
                    XCTAssertEqual(bk_layer_norm(pool, x, residual ? r : nil, Int64(rows), Int64(n), g, b, 1e-12, &y), BK_OK)
                    XCTAssertEqual(bk_layer_norm(nil, x, residual ? r : nil, Int64(rows), Int64(n), g, b, 1e-12, &single), BK_OK)
                    XCTAssertEqual(y, single, "\(isa) rows=\(rows) n=\(n) pool=\(pool != nil)")
                    var inPlace = x  // y aliasing x
                    XCTAssertEqual(inPlace.withUnsafeMutableBufferPointer { p in
                        bk_layer_norm(pool, p.baseAddress, residual ? r : nil, Int64(rows), Int64(n), g, b, 1e-12, p.baseAddress)
                    }, BK_OK)
                    for i in 0..<(rows * n) {
                        let tol = 1e-6 * max(1, abs(want[i]))
                        if !(abs(Double(y[i]) - want[i]) <= tol) || !(abs(Double(inPlace[i]) - want[i]) <= tol) {
                            XCTFail("\(isa) rows=\(rows) n=\(n) i=\(i): \(y[i]) / \(inPlace[i]) vs \(want[i])"); return
                        }
                    }
                } }
            }
        }
        var y = [Float](repeating: 0, count: 2)
        XCTAssertEqual(bk_layer_norm(nil, [1, 2], nil, 1, 0, [1], [0], 1e-5, &y), BK_ERR_ARGUMENT)
    }

    func testGeluTanhAdd() {
        var x = random(1001, scale: 6)
        x += [0, -0.0, 1e-8, -1e-8, 10, -10, 40, -40, 0.5, -0.5]
        // every 1/128 over [-9, 9]: each of the AVX-512 GELU's 32 intervals over [-8, 8), and both clamps
        x += (0...2304).map { Float($0 - 1152) / 128 }
        let r = random(x.count)
        forEachISA { isa in
            var gx = x
            bk_gelu_erf(&gx, gx.count)
            for i in 0..<x.count {
                let v = Double(x[i])
                let want = v * 0.5 * (1 + erf(v / 2.0.squareRoot()))
                XCTAssertEqual(Double(gx[i]), want, accuracy: 1e-6, "\(isa) gelu(\(x[i]))")
            }
            var t = x
            bk_tanh(&t, t.count)
            for i in 0..<x.count { XCTAssertEqual(Double(t[i]), tanh(Double(x[i])), accuracy: 1e-6, "\(isa) tanh(\(x[i]))") }
            var s = [Float](repeating: 0, count: x.count)
            bk_add(x, r, &s, x.count)
            for i in 0..<x.count { XCTAssertEqual(s[i], x[i] + r[i], "\(isa) add") }
        }
    }

    func testEmbeddingsBoundsAndValues() {
        let (V, P, T, H) = (10, 4, 2, 3)
        let word = random(V * H), pos = random(P * H), type = random(T * H)
        var out = [Float](repeating: 0, count: 2 * 3 * H)
        let ids: [Int32] = [1, 9, 0, 2, 3, 4], types: [Int32] = [0, 1, 1, 0, 0, 1]
        XCTAssertEqual(bk_embeddings(ids, types, 2, 3, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out), BK_OK)
        for i in 0..<6 { for d in 0..<H {
            let want = Double(word[Int(ids[i]) * H + d]) + Double(type[Int(types[i]) * H + d]) + Double(pos[(i % 3) * H + d])
            XCTAssertEqual(Double(out[i * H + d]), want, accuracy: 1e-6)
        } }
        for bad: [Int32] in [[1, 10, 0, 2, 3, 4], [1, -1, 0, 2, 3, 4], [1, 2, 0, 2, 3, Int32.max]] {
            XCTAssertEqual(bk_embeddings(bad, types, 2, 3, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out), BK_ERR_ARGUMENT)
        }
        for badType: [Int32] in [[0, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, -1]] {
            XCTAssertEqual(bk_embeddings(ids, badType, 2, 3, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out), BK_ERR_ARGUMENT)
        }
        XCTAssertEqual(bk_embeddings(ids, types, 1, 6, word, Int64(V), pos, Int64(P), type, Int64(T), Int64(H), &out),
                       BK_ERR_ARGUMENT, "sequence longer than the position table")
        XCTAssertEqual(bk_embeddings(ids, types, 2, 3, word, Int64(V), pos, Int64(P), type, Int64(T), 0, &out), BK_ERR_ARGUMENT)
    }

    func testHalfAndBFloatWidening() {
        // Bit patterns and values from IEEE 754 binary16 / bfloat16.
        let half: [UInt16] = [0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7C00, 0xFC00, 0x3555, 0x0200]
        let want: [Float] = [0, -0.0, 1, -2, 65504, 5.9604645e-08, -5.9604645e-08, 6.097555e-05, 6.1035156e-05,
                             .infinity, -.infinity, 0.33325195, 3.0517578e-05]
        var out = [Float](repeating: 0, count: half.count)
        bk_f16_to_f32(half, &out, half.count)
        XCTAssertEqual(out, want)
        XCTAssertEqual(out[1].sign, .minus)
        // Every finite half converts exactly (Swift's Float16 is the independent reference).
        var all = (0...0xFFFF).map { UInt16($0) }.filter { ($0 & 0x7C00) != 0x7C00 }
        var wide = [Float](repeating: 0, count: all.count)
        bk_f16_to_f32(all, &wide, all.count)
        for i in 0..<all.count where wide[i].bitPattern != Float(Float16(bitPattern: all[i])).bitPattern {
            XCTFail("f16 0x\(String(all[i], radix: 16)) -> \(wide[i])"); break
        }
        all = [0x7E00, 0xFE01, 0x7C01]
        var nan = [Float](repeating: 0, count: 3)
        bk_f16_to_f32(all, &nan, 3)
        XCTAssertTrue(nan.allSatisfy { $0.isNaN })
        let bf: [UInt16] = [0x3F80, 0xC040, 0x7F80, 0xFF80, 0x0001, 0x8000, 0x7FC0]
        var bo = [Float](repeating: 0, count: bf.count)
        bk_bf16_to_f32(bf, &bo, bf.count)
        XCTAssertEqual(Array(bo[0..<6]), [1, -3, .infinity, -.infinity, Float(bitPattern: 0x0001_0000), -0.0])
        XCTAssertEqual(bo[5].sign, .minus)
        XCTAssertTrue(bo[6].isNaN)
    }

    func testHash64KnownVectors() {
        // xxHash64 reference values from the published vectors and the python `xxhash` package.
        XCTAssertEqual(bk_hash64(nil, 0, 0), 0xEF46DB3751D8E999)
        let abc = Array("abc".utf8)
        XCTAssertEqual(bk_hash64(abc, abc.count, 0), 0x44BC2CF5AD770999)
        let long = Array("Nobody inspects the spammish repetition".utf8)
        XCTAssertEqual(bk_hash64(long, long.count, 0), 0xFBCEA83C8A378BF1)
        let bytes = (0..<1000).map { UInt8($0 & 0xFF) }
        XCTAssertEqual(bk_hash64(bytes, 101, 0x9E3779B1), 0xA1C6D4174C37136D)
        XCTAssertEqual(bk_hash64(bytes, 64, 1), 0x3CE5BDF7575926C0)
        XCTAssertEqual(bk_hash64(bytes, 1000, 0), 0x6EF436B00EBA4078)
    }
}
