import CBertKernels
import XCTest

/// bk_csr_linear and bk_masked_linear at every ISA level this CPU has, with and without a 2-thread pool and
/// bias, uint16 and uint32 indices, against a naive Double-accumulated Swift reference of the same sparse matrix.
final class SparseKernelTests: XCTestCase {
    var rng = SystemRandomNumberGenerator()
    func random(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) } }

    /// A sparse W [n, k] in the three forms the kernels take, built independently of the kernels.
    struct Sparse {
        var effective: [Float]     // W with the zeroed entries as 0 (dense, row-major)
        var base: [Float]          // W with random nonzero values where `effective` is 0
        var zeroed: [UInt64]       // bit r*k+c set = entry zeroed
        var rowPtr: [Int32] = [0]
        var col16: [UInt16] = [], col32: [UInt32] = [], values: [Float] = []
    }

    /// Each entry kept with probability `density`; for 0 < density < 1 every fifth row (from row 2) is empty.
    func makeSparse(n: Int, k: Int, density: Double) -> Sparse {
        var s = Sparse(effective: [Float](repeating: 0, count: n * k), base: random(n * k),
                       zeroed: [UInt64](repeating: 0, count: (n * k + 63) / 64))
        for r in 0..<n {
            let empty = density > 0 && density < 1 && r % 5 == 2
            for c in 0..<k {
                let i = r * k + c
                if s.base[i] == 0 { s.base[i] = 0.5 }
                let keep = !empty && (density >= 1 || Double.random(in: 0..<1, using: &rng) < density)
                if keep {
                    s.effective[i] = s.base[i]
                    s.col16.append(UInt16(c)); s.col32.append(UInt32(c)); s.values.append(s.base[i])
                } else {
                    s.zeroed[i >> 6] |= UInt64(1) << UInt64(i & 63)
                }
            }
            s.rowPtr.append(Int32(s.values.count))
        }
        return s
    }

    /// Reference dot products and their magnitude (2-norm of the products), in Double, from the CSR form.
    func reference(_ x: [Float], m: Int, k: Int, n: Int, _ s: Sparse) -> (dot: [Double], norm: [Double]) {
        var dot = [Double](repeating: 0, count: m * n), norm = [Double](repeating: 0, count: m * n)
        x.withUnsafeBufferPointer { xp in s.values.withUnsafeBufferPointer { vp in s.col32.withUnsafeBufferPointer { cp in
            for r in 0..<n {
                let a = Int(s.rowPtr[r]), e = Int(s.rowPtr[r + 1])
                for i in 0..<m {
                    var sum = 0.0, sq = 0.0
                    var j = a
                    while j < e {
                        let p = Double(xp[i * k + Int(cp[j])]) * Double(vp[j])
                        sum += p; sq += p * p
                        j += 1
                    }
                    dot[i * n + r] = sum; norm[i * n + r] = sq.squareRoot()
                }
            }
        } } }
        return (dot, norm)
    }

    /// First index where y is not within 1e-5 relative of the reference, or nil.
    func firstMismatch(_ y: [Float], _ ref: (dot: [Double], norm: [Double]), n: Int, bias: [Float]?) -> Int? {
        let zeros = [Float](repeating: 0, count: n)
        return y.withUnsafeBufferPointer { yp in ref.dot.withUnsafeBufferPointer { dp in ref.norm.withUnsafeBufferPointer { np in
            (bias ?? zeros).withUnsafeBufferPointer { bp in
                for i in 0..<yp.count {
                    let b = Double(bp[i % n])
                    let want = dp[i] + b
                    let scale = max(abs(want), np[i], abs(b), 1e-30)
                    if !(abs(Double(yp[i]) - want) <= 1e-5 * scale) { return i }
                }
                return nil
            }
        } } }
    }

    func testCSRAndMaskedMatchReference() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        for (k, n) in [(32, 37), (384, 1536), (1536, 384)] {
            for density in [0, 0.01, 0.1, 0.5, 1.0] {
                let s = makeSparse(n: n, k: k, density: density)
                let baseCopy = s.base
                let b = random(n)
                for m in [1, 3, 17, 128, 129] {
                    let x = random(m * k)
                    let ref = reference(x, m: m, k: k, n: n, s)
                    var failed = false
                    forEachISA { isa in
                        for p in [pool, nil] { for bias in [true, false] where !failed {
                            let label = "\(isa) pool=\(p != nil) bias=\(bias) m=\(m) k=\(k) n=\(n) density=\(density)"
                            for ib in [2, 4] {
                                var y = [Float](repeating: .nan, count: m * n)
                                let st = ib == 2
                                    ? bk_csr_linear(p, x, Int64(m), Int64(k), s.rowPtr, s.col16, 2, s.values, Int64(n), bias ? b : nil, &y)
                                    : bk_csr_linear(p, x, Int64(m), Int64(k), s.rowPtr, s.col32, 4, s.values, Int64(n), bias ? b : nil, &y)
                                XCTAssertEqual(st, BK_OK, label)
                                if let i = firstMismatch(y, ref, n: n, bias: bias ? b : nil) {
                                    XCTFail("csr u\(ib * 8) \(label) i=\(i): \(y[i]) vs \(ref.dot[i] + (bias ? Double(b[i % n]) : 0))"); failed = true
                                }
                            }
                            var y = [Float](repeating: .nan, count: m * n)
                            XCTAssertEqual(bk_masked_linear(p, x, Int64(m), Int64(k), s.base, s.zeroed, Int64(n), bias ? b : nil, &y), BK_OK)
                            if let i = firstMismatch(y, ref, n: n, bias: bias ? b : nil) {
                                XCTFail("masked \(label) i=\(i): \(y[i]) vs \(ref.dot[i] + (bias ? Double(b[i % n]) : 0))"); failed = true
                            }
                            // The mask is applied while packing, so the result is bk_linear's on the zeroed copy, bit for bit.
                            var dense = [Float](repeating: .nan, count: m * n)
                            XCTAssertEqual(bk_linear(p, x, Int64(m), Int64(k), s.effective, Int64(n), bias ? b : nil, &dense), BK_OK)
                            if y != dense { XCTFail("masked differs from bk_linear on the zeroed weights: \(label)"); failed = true }
                        } }
                    }
                    if failed { return }
                }
                XCTAssertEqual(s.base, baseCopy, "bk_masked_linear must not modify the base weights")
            }
        }
    }

    /// More tokens than one transposed chunk (256), single rows and columns, and uint16 indices up to 65535.
    func testChunksAndEdgeShapes() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        // (20, 700, 800): few tokens, enough work to split the rows between threads, each transposing the tokens itself.
        for (m, k, n, density) in [(300, 32, 37, 0.3), (520, 33, 70, 0.5), (257, 1, 1, 1.0), (5, 65536, 3, 0.01), (2, 7, 1, 0.0),
                                   (20, 700, 800, 0.3)] {
            let s = makeSparse(n: n, k: k, density: density)
            let x = random(m * k), b = random(n)
            let ref = reference(x, m: m, k: k, n: n, s)
            forEachISA { isa in
                for p in [pool, nil] { for ib in [2, 4] {
                    var y = [Float](repeating: .nan, count: m * n)
                    let st = ib == 2
                        ? bk_csr_linear(p, x, Int64(m), Int64(k), s.rowPtr, s.col16, 2, s.values, Int64(n), b, &y)
                        : bk_csr_linear(p, x, Int64(m), Int64(k), s.rowPtr, s.col32, 4, s.values, Int64(n), b, &y)
                    XCTAssertEqual(st, BK_OK)
                    if let i = firstMismatch(y, ref, n: n, bias: b) {
                        XCTFail("csr u\(ib * 8) \(isa) m=\(m) k=\(k) n=\(n) i=\(i): \(y[i]) vs \(ref.dot[i] + Double(b[i % n]))"); return
                    }
                } }
                var y = [Float](repeating: .nan, count: m * n)
                XCTAssertEqual(bk_masked_linear(pool, x, Int64(m), Int64(k), s.base, s.zeroed, Int64(n), b, &y), BK_OK)
                if let i = firstMismatch(y, ref, n: n, bias: b) {
                    XCTFail("masked \(isa) m=\(m) k=\(k) n=\(n) i=\(i): \(y[i]) vs \(ref.dot[i] + Double(b[i % n]))"); return
                }
            }
        }
    }

    /// GELU fused into the CSR store equals CSR then bk_gelu_erf bit for bit (token blocks of every width, rows
    /// groups with a tail, one and two threads, each ISA), and an unknown epilogue is refused.
    func testGeluEpilogueEqualsSeparateGelu() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        for (m, k, n) in [(1, 40, 19), (37, 300, 70), (130, 64, 3072), (300, 33, 37)] {
            let s = makeSparse(n: n, k: k, density: 0.2)
            let x = random(m * k), b = random(n)
            forEachISA { isa in
                for p in [pool, nil] {
                    var fused = [Float](repeating: .nan, count: m * n), separate = fused
                    XCTAssertEqual(bk_csr_linear_ex(p, x, Int64(m), Int64(k), s.rowPtr, s.col16, 2, s.values, Int64(n), b,
                                                    BK_EPILOGUE_GELU, &fused), BK_OK)
                    XCTAssertEqual(bk_csr_linear(p, x, Int64(m), Int64(k), s.rowPtr, s.col16, 2, s.values, Int64(n), b,
                                                 &separate), BK_OK)
                    bk_gelu_erf(&separate, separate.count)
                    XCTAssertEqual(fused, separate, "\(isa) m=\(m) k=\(k) n=\(n) pool=\(p != nil)")
                }
            }
            var y = [Float](repeating: 0, count: m * n)
            XCTAssertEqual(bk_csr_linear_ex(nil, x, Int64(m), Int64(k), s.rowPtr, s.col16, 2, s.values, Int64(n), b,
                                            bk_epilogue(rawValue: 7), &y), BK_ERR_ARGUMENT)
        }
    }

    /// Several weights over one x in one call (Q, K, V) equal one bk_csr_linear_ex call each: token counts for the
    /// token split and the row split (whose tasks straddle weights), both index widths, a weight without bias, GELU,
    /// one and two threads, each ISA; bad counts are refused.
    func testMultiEqualsOneCallPerWeight() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        // Enough nonzeros that 20 and 33 tokens take the row split on several tasks (work >= 2^20), whose ranges
        // start inside the second and third weights.
        let k = 256
        let ws = [makeSparse(n: 200, k: k, density: 0.3), makeSparse(n: 61, k: k, density: 0.05),
                  makeSparse(n: 300, k: k, density: 0.5)]
        let biases: [[Float]?] = [random(200), nil, random(300)]
        for m in [1, 20, 33, 70, 200] {
            let x = random(m * k)
            forEachISA { isa in
                for p in [pool, nil] {
                    for epilogue in [BK_EPILOGUE_NONE, BK_EPILOGUE_GELU] {
                        var want: [[Float]] = []
                        for (i, s) in ws.enumerated() {
                            var y = [Float](repeating: .nan, count: m * s.rowPtr.count - m)
                            let st = i == 1
                                ? bk_csr_linear_ex(p, x, Int64(m), Int64(k), s.rowPtr, s.col32, 4, s.values, Int64(s.rowPtr.count - 1),
                                                   biases[i], epilogue, &y)
                                : bk_csr_linear_ex(p, x, Int64(m), Int64(k), s.rowPtr, s.col16, 2, s.values, Int64(s.rowPtr.count - 1),
                                                   biases[i], epilogue, &y)
                            XCTAssertEqual(st, BK_OK)
                            want.append(y)
                        }
                        let got = want.map { Pinned([Float](repeating: .nan, count: $0.count)) }
                        let rows = ws.map { Pinned($0.rowPtr) }, values = ws.map { Pinned($0.values) }
                        let c16 = ws.map { Pinned($0.col16) }, c32 = ws.map { Pinned($0.col32) }
                        let bias = biases.map { $0.map(Pinned.init) }
                        var weights: [bk_csr_weight] = []
                        for i in 0..<3 {
                            let idx: UnsafeRawPointer = i == 1 ? UnsafeRawPointer(c32[i].p) : UnsafeRawPointer(c16[i].p)
                            let b: UnsafePointer<Float>? = bias[i].map { UnsafePointer($0.p) }
                            let n = Int64(ws[i].rowPtr.count - 1)
                            weights.append(bk_csr_weight(row_ptr: rows[i].p, col_idx: idx, index_bytes: i == 1 ? 4 : 2,
                                                         values: values[i].p, n: n, bias: b, y: got[i].p))
                        }
                        XCTAssertEqual(bk_csr_linear_multi(p, x, Int64(m), Int64(k), weights, 0, epilogue), BK_ERR_ARGUMENT)
                        XCTAssertEqual(bk_csr_linear_multi(p, x, Int64(m), Int64(k), weights + [weights[0], weights[1]], 5, epilogue),
                                       BK_ERR_ARGUMENT)
                        let st = bk_csr_linear_multi(p, x, Int64(m), Int64(k), weights, 3, epilogue)
                        XCTAssertEqual(st, BK_OK)
                        // Within rounding, not bit for bit: the multi call's token blocks can differ from a single
                        // weight's (the pool is used from a total amount of work), and each block width sums a
                        // row's nonzeros in its own accumulator order.
                        for (g, w) in zip(got.map(\.array), want) {
                            if let i = g.indices.first(where: { !(abs(g[$0] - w[$0]) <= 1e-4 * max(1, abs(w[$0]))) }) {
                                XCTFail("\(isa) m=\(m) pool=\(p != nil) epilogue=\(epilogue.rawValue) i=\(i): \(g[i]) vs \(w[i])")
                                return
                            }
                        }
                    }
                }
            }
        }
    }

    /// The fused feed-forward block equals bk_csr_linear_ex(up, GELU) then bk_csr_linear_ex(down), bit for bit: token
    /// counts where both calls split by rows (one task, and, with larger weights, several tasks per call over one
    /// and two blocks of 64 tokens, widths 8 to 64), where the tokens are split (at the threshold, a tail block of every
    /// width, a chunk of 1024); one, two and four threads; each ISA. With a bk_add_norm, it equals that followed by
    /// bk_layer_norm.
    func testFusedFeedForwardEqualsTwoCalls() {
        let pool = bk_pool_create(2), pool4 = bk_pool_create(4)
        defer { bk_pool_destroy(pool); bk_pool_destroy(pool4) }
        checkFusedFeedForward(k: 48, inner: 200, out: 40, ms: [20, 97, 100, 130, 137, 1030, 1100], pools: [pool, nil])
        // Work enough for the row split to take several tasks per call (bk_csr_splits_rows).
        checkFusedFeedForward(k: 256, inner: 512, out: 256, ms: [5, 20, 40, 63], pools: [pool])
        checkFusedFeedForward(k: 256, inner: 512, out: 256, ms: [100], pools: [pool4])
    }

    private func checkFusedFeedForward(k: Int, inner: Int, out: Int, ms: [Int], pools: [OpaquePointer?]) {
        let up = makeSparse(n: inner, k: k, density: 0.3), down = makeSparse(n: out, k: inner, density: 0.3)
        let bUp = Pinned(random(inner)), bDown = Pinned(random(out)), gamma = Pinned(random(out)), beta = Pinned(random(out))
        let upRows = Pinned(up.rowPtr), upIdx = Pinned(up.col16), upVals = Pinned(up.values)
        let dnRows = Pinned(down.rowPtr), dnIdx = Pinned(down.col32), dnVals = Pinned(down.values)
        for m in ms {
            let x = random(m * k), residual = Pinned(random(m * out))
            forEachISA { isa in
                for p in pools {
                    let hidden = Pinned([Float](repeating: .nan, count: m * inner))
                    let want = Pinned([Float](repeating: .nan, count: m * out)), got = Pinned([Float](repeating: .nan, count: m * out))
                    let scratch = Pinned([Float](repeating: .nan, count: m * inner))
                    var u = bk_csr_weight(row_ptr: upRows.p, col_idx: UnsafeRawPointer(upIdx.p), index_bytes: 2, values: upVals.p,
                                          n: Int64(inner), bias: UnsafePointer(bUp.p), y: hidden.p)
                    var d = bk_csr_weight(row_ptr: dnRows.p, col_idx: UnsafeRawPointer(dnIdx.p), index_bytes: 4, values: dnVals.p,
                                          n: Int64(out), bias: UnsafePointer(bDown.p), y: want.p)
                    XCTAssertEqual(bk_csr_linear_multi(p, x, Int64(m), Int64(k), &u, 1, BK_EPILOGUE_GELU), BK_OK)
                    XCTAssertEqual(bk_csr_linear_multi(p, hidden.p, Int64(m), Int64(inner), &d, 1, BK_EPILOGUE_NONE), BK_OK)
                    u.y = scratch.p
                    d.y = got.p
                    XCTAssertEqual(bk_csr_ffn(p, x, Int64(m), Int64(k), &u, &d, nil), BK_OK)
                    XCTAssertEqual(got.array, want.array, "\(isa) k=\(k) m=\(m) threads=\(bk_pool_threads(p))")
                    // With a residual add + layer norm: the same bits as bk_layer_norm over the block's output.
                    let normWant = Pinned([Float](repeating: .nan, count: m * out)), normGot = Pinned([Float](repeating: .nan, count: m * out))
                    XCTAssertEqual(bk_layer_norm(p, want.p, residual.p, Int64(m), Int64(out), gamma.p, beta.p, 1e-12, normWant.p), BK_OK)
                    var norm = bk_add_norm(residual: UnsafePointer(residual.p), gamma: UnsafePointer(gamma.p),
                                           beta: UnsafePointer(beta.p), eps: 1e-12, out: normGot.p)
                    XCTAssertEqual(bk_csr_ffn(p, x, Int64(m), Int64(k), &u, &d, &norm), BK_OK)
                    XCTAssertEqual(normGot.array, normWant.array, "\(isa) k=\(k) m=\(m) threads=\(bk_pool_threads(p)) with layer norm")
                    norm.out = nil
                    XCTAssertEqual(bk_csr_ffn(p, x, Int64(m), Int64(k), &u, &d, &norm), BK_ERR_ARGUMENT)
                }
            }
        }
    }

    func testRejectsBadArguments() {
        let x = random(6), b = random(2)
        var y = [Float](repeating: 0, count: 6)
        let rowPtr: [Int32] = [0, 2, 3], col16: [UInt16] = [0, 2, 1], col32: [UInt32] = [0, 2, 1]
        let vals: [Float] = [1, 2, 3]
        // x [2, 3], W [2, 3] = [[1, 0, 2], [0, 3, 0]].
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, rowPtr, col16, 2, vals, 2, b, &y), BK_OK)
        for i in 0..<2 {
            XCTAssertEqual(Double(y[i * 2]), Double(x[i * 3]) + 2 * Double(x[i * 3 + 2]) + Double(b[0]), accuracy: 1e-5)
            XCTAssertEqual(Double(y[i * 2 + 1]), 3 * Double(x[i * 3 + 1]) + Double(b[1]), accuracy: 1e-5)
        }
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, rowPtr, col32, 3, vals, 2, nil, &y), BK_ERR_ARGUMENT, "index bytes 3")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, rowPtr, col32, 8, vals, 2, nil, &y), BK_ERR_ARGUMENT, "index bytes 8")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 70000, rowPtr, col16, 2, vals, 2, nil, &y), BK_ERR_ARGUMENT,
                       "uint16 indices cannot address 70000 columns")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, [1, 2, 3], col32, 4, vals, 2, nil, &y), BK_ERR_ARGUMENT, "row_ptr[0] != 0")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, [0, 3, 2], col32, 4, vals, 2, nil, &y), BK_ERR_ARGUMENT, "decreasing row_ptr")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, [0, 4, 7], col32, 4, vals, 2, nil, &y), BK_ERR_ARGUMENT, "nnz > n * k")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, rowPtr, nil, 4, vals, 2, nil, &y), BK_ERR_ARGUMENT, "no indices")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, rowPtr, col32, 4, nil, 2, nil, &y), BK_ERR_ARGUMENT, "no values")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 0, rowPtr, col32, 4, vals, 2, nil, &y), BK_ERR_ARGUMENT, "k = 0")
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, rowPtr, col32, 4, vals, 0, nil, &y), BK_ERR_ARGUMENT, "n = 0")
        XCTAssertEqual(bk_csr_linear(nil, x, -1, 3, rowPtr, col32, 4, vals, 2, nil, &y), BK_ERR_ARGUMENT, "m < 0")
        XCTAssertEqual(bk_csr_linear(nil, x, 0, 3, rowPtr, col32, 4, vals, 2, nil, &y), BK_OK, "m = 0")
        // No nonzeros at all: index and value arrays may be absent; y is the bias.
        XCTAssertEqual(bk_csr_linear(nil, x, 2, 3, [0, 0, 0], nil, 2, nil, 2, b, &y), BK_OK)
        XCTAssertEqual(Array(y[0..<4]), [b[0], b[1], b[0], b[1]])

        let w = random(6), mask: [UInt64] = [0b100010]
        XCTAssertEqual(bk_masked_linear(nil, x, 2, 3, w, nil, 2, nil, &y), BK_ERR_ARGUMENT, "no mask")
        XCTAssertEqual(bk_masked_linear(nil, x, 2, 0, w, mask, 2, nil, &y), BK_ERR_ARGUMENT, "k = 0")
        XCTAssertEqual(bk_masked_linear(nil, x, 2, 3, w, mask, 0, nil, &y), BK_ERR_ARGUMENT, "n = 0")
        XCTAssertEqual(bk_masked_linear(nil, x, 0, 3, w, mask, 2, nil, &y), BK_OK, "m = 0")
        // Bits 1 and 5 zero entries (0, 1) and (1, 2).
        forEachISA { isa in
            XCTAssertEqual(bk_masked_linear(nil, x, 2, 3, w, mask, 2, nil, &y), BK_OK)
            for i in 0..<2 {
                let r0 = Double(x[i * 3]) * Double(w[0]) + Double(x[i * 3 + 2]) * Double(w[2])
                let r1 = Double(x[i * 3]) * Double(w[3]) + Double(x[i * 3 + 1]) * Double(w[4])
                XCTAssertEqual(Double(y[i * 2]), r0, accuracy: 1e-5, isa)
                XCTAssertEqual(Double(y[i * 2 + 1]), r1, accuracy: 1e-5, isa)
            }
        }
    }

    /// Many pooled calls must give bit-identical results (no races in the pool or scratch), and a mask bit
    /// for every entry at every word offset is honoured (k = 67 makes rows straddle uint64 words).
    func testRepeatableAndEveryMaskBit() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let (m, k, n) = (37, 200, 301)
        let s = makeSparse(n: n, k: k, density: 0.2)
        let x = random(m * k)
        var first = [Float](repeating: 0, count: m * n), firstMasked = first
        XCTAssertEqual(bk_csr_linear(pool, x, Int64(m), Int64(k), s.rowPtr, s.col32, 4, s.values, Int64(n), nil, &first), BK_OK)
        XCTAssertEqual(bk_masked_linear(pool, x, Int64(m), Int64(k), s.base, s.zeroed, Int64(n), nil, &firstMasked), BK_OK)
        for _ in 0..<100 {
            var again = [Float](repeating: 0, count: m * n), againMasked = again
            XCTAssertEqual(bk_csr_linear(pool, x, Int64(m), Int64(k), s.rowPtr, s.col32, 4, s.values, Int64(n), nil, &again), BK_OK)
            XCTAssertEqual(bk_masked_linear(pool, x, Int64(m), Int64(k), s.base, s.zeroed, Int64(n), nil, &againMasked), BK_OK)
            if again != first || againMasked != firstMasked { XCTFail("pooled sparse kernels are not repeatable"); return }
        }
        // One zeroed entry at a time: x = e_c (token c picks column c), so y[c, r] must be 0 exactly where bit r*k+c is set.
        let (kk, nn) = (67, 5)
        var xi = [Float](repeating: 0, count: kk * kk)
        for c in 0..<kk { xi[c * kk + c] = 1 }
        let w = (0..<(nn * kk)).map { Float($0 + 1) }
        forEachISA { isa in
            for bit in stride(from: 0, to: nn * kk, by: 7) {
                var mask = [UInt64](repeating: 0, count: (nn * kk + 63) / 64)
                mask[bit >> 6] |= UInt64(1) << UInt64(bit & 63)
                var y = [Float](repeating: .nan, count: kk * nn)
                XCTAssertEqual(bk_masked_linear(nil, xi, Int64(kk), Int64(kk), w, mask, Int64(nn), nil, &y), BK_OK)
                for c in 0..<kk { for r in 0..<nn {
                    let want: Float = r * kk + c == bit ? 0 : w[r * kk + c]
                    if y[c * nn + r] != want { XCTFail("\(isa) bit \(bit): y[\(c), \(r)] = \(y[c * nn + r]), want \(want)"); return }
                } }
            }
        }
    }
}

/// An array's elements in memory of their own, for C structs that keep pointers past one call.
final class Pinned<T> {
    let p: UnsafeMutablePointer<T>
    let count: Int
    init(_ a: [T]) {
        count = a.count
        p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        p.initialize(from: a, count: count)
    }
    var array: [T] { Array(UnsafeBufferPointer(start: p, count: count)) }
    deinit { p.deinitialize(count: count); p.deallocate() }
}
