import CBertKernels
import XCTest

/// bk_csr_linear_norm: the same bits as the linear followed by bk_layer_norm over its output and the residual, for
/// token counts that split by rows, by tokens (one block of 64 per task, normalised inside the task), with tail blocks,
/// and over chunks of 1024; one and two threads; each ISA. (bk_csr_ffn with a bk_add_norm: in SparseKernelTests.)
extension SparseKernelTests {
    func testLinearNormEqualsLinearThenLayerNorm() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let k = 48, n = 40
        let w = makeSparse(n: n, k: k, density: 0.3)
        let rows = Pinned(w.rowPtr), idx = Pinned(w.col16), vals = Pinned(w.values), bias = Pinned(random(n))
        let gamma = Pinned(random(n)), beta = Pinned(random(n))
        for m in [5, 20, 97, 130, 1100] {
            let x = random(m * k), residual = Pinned(random(m * n))
            forEachISA { isa in
                for p in [pool, nil] {
                    for res in [residual.p, nil] as [UnsafeMutablePointer<Float>?] {
                        let y = Pinned([Float](repeating: .nan, count: m * n)), want = Pinned([Float](repeating: .nan, count: m * n))
                        let got = Pinned([Float](repeating: .nan, count: m * n))
                        var cw = bk_csr_weight(row_ptr: rows.p, col_idx: UnsafeRawPointer(idx.p), index_bytes: 2, values: vals.p,
                                               n: Int64(n), bias: UnsafePointer(bias.p), y: y.p)
                        XCTAssertEqual(bk_csr_linear_multi(p, x, Int64(m), Int64(k), &cw, 1, BK_EPILOGUE_NONE), BK_OK)
                        XCTAssertEqual(bk_layer_norm(p, y.p, res, Int64(m), Int64(n), gamma.p, beta.p, 1e-5, want.p), BK_OK)
                        var norm = bk_add_norm(residual: res.map { UnsafePointer($0) }, gamma: UnsafePointer(gamma.p), beta: UnsafePointer(beta.p), eps: 1e-5, out: got.p)
                        XCTAssertEqual(bk_csr_linear_norm(p, x, Int64(m), Int64(k), &cw, &norm), BK_OK)
                        XCTAssert(sameBits(got.array, want.array), "\(isa) m=\(m) pool=\(p != nil) residual=\(res != nil)")
                        norm.gamma = nil
                        XCTAssertEqual(bk_csr_linear_norm(p, x, Int64(m), Int64(k), &cw, &norm), BK_ERR_ARGUMENT)
                        XCTAssertEqual(bk_csr_linear_norm(p, x, Int64(m), Int64(k), &cw, nil), BK_ERR_ARGUMENT)
                    }
                }
            }
        }
    }

    private func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.elementsEqual(b) { $0.bitPattern == $1.bitPattern } && !a.contains { $0.isNaN }
    }
}
