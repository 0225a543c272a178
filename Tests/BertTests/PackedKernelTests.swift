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
        let shapes = [(1, 1, 1), (3, 17, 5), (13, 40, 33), (37, 300, 64), (64, 384, 97), (25, 513, 31), (130, 64, 384), (250, 1024, 40), (493, 20, 70), (601, 48, 70)]
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

    /// bk_linear_packed_multi: each output is bk_linear_packed's for its weight, bit for bit, with the panel groups
    /// of one task crossing from one weight to the next (34 panels in 17 tasks of 2 at two threads), tails of every
    /// weight, a keep mask on one part, both masked paths (row counts on both sides of the copy threshold), the
    /// x copy for K a multiple of 1024, and the GELU epilogue.
    func testPackedMultiEqualsSeparateCalls() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let ns = [400, 330, 290]
        for (m, k) in [(13, 40), (1, 64), (130, 96), (250, 1024)] {
            let x = random(m * k)
            let ws = ns.map { random($0 * k) }, bs = ns.map { random($0) }
            let packed = zip(ws, ns).map { pack($0, nil, k: k, n: $1, pool: nil) }
            var keep = [UInt32](repeating: 0, count: Int(bk_packed_mask_words(Int64(k), Int64(ns[1]))))
            XCTAssertEqual(bk_pack_mask(nil, zeroedBits(ns[1], k, fraction: 0.3), Int64(k), Int64(ns[1]), &keep), BK_OK)
            forEachISA { isa in
                for p in [pool, nil] {
                    for epilogue in [BK_EPILOGUE_NONE, BK_EPILOGUE_GELU] {
                        var separate = ns.map { [Float](repeating: .nan, count: m * $0) }
                        let ys = ns.map { UnsafeMutablePointer<Float>.allocate(capacity: m * $0) }
                        defer { ys.forEach { $0.deallocate() } }
                        for (y, n) in zip(ys, ns) { y.initialize(repeating: .nan, count: m * n) }
                        withAligned(packed[0]) { w0 in withAligned(packed[1]) { w1 in withAligned(packed[2]) { w2 in
                            keep.withUnsafeBufferPointer { kp in
                                let wp = [w0, w1, w2], keeps: [UnsafePointer<UInt32>?] = [nil, kp.baseAddress, nil]
                                for i in 0..<3 {
                                    XCTAssertEqual(bk_linear_packed(p, x, Int64(m), Int64(k), wp[i], keeps[i], Int64(ns[i]), bs[i],
                                                                    epilogue, &separate[i]), BK_OK)
                                }
                                let bp = bs.map { b in
                                    let q = UnsafeMutablePointer<Float>.allocate(capacity: b.count)
                                    q.initialize(from: b, count: b.count)
                                    return q
                                }
                                defer { bp.forEach { $0.deallocate() } }
                                let parts = (0..<3).map {
                                    bk_packed_weight(packed: wp[$0], keep: keeps[$0], n: Int64(ns[$0]), bias: bp[$0], y: ys[$0])
                                }
                                XCTAssertEqual(bk_linear_packed_multi(p, x, Int64(m), Int64(k), parts, 3, epilogue), BK_OK)
                            }
                        } } }
                        let multi = zip(ys, ns).map { Array(UnsafeBufferPointer(start: $0, count: m * $1)) }
                        for i in 0..<3 where !multi[i].elementsEqual(separate[i], by: { $0.bitPattern == $1.bitPattern }) {
                            XCTFail("\(isa) m=\(m) k=\(k) part \(i) pool=\(p != nil) epilogue \(epilogue.rawValue) differs")
                        }
                    }
                }
            }
        }
        var y = [Float](repeating: 0, count: 4)
        let one = [Float](repeating: 1, count: 32)
        withAligned(one) { w in y.withUnsafeMutableBufferPointer { yp in
            let part = bk_packed_weight(packed: w, keep: nil, n: 1, bias: nil, y: yp.baseAddress)
            XCTAssertEqual(bk_linear_packed_multi(nil, w, 1, 1, [part], 0, BK_EPILOGUE_NONE), BK_ERR_ARGUMENT)
            XCTAssertEqual(bk_linear_packed_multi(nil, w, 1, 1, Array(repeating: part, count: 5), 5, BK_EPILOGUE_NONE),
                           BK_ERR_ARGUMENT)
            XCTAssertEqual(bk_linear_packed_multi(nil, w, 1, 1, [part], 1, BK_EPILOGUE_NONE), BK_OK)
        } }
        XCTAssertEqual(y[0], 1)
    }

    /// bk_linear_packed_ffn: the same bits as the GELU linear then the second linear, with 1024 inner features (the
    /// intermediate in scratch at a padded stride, AVX-512) and 200 (the two calls), a masked down projection, and
    /// row counts on both sides of the masked copy threshold and of the row split (512); each ISA, one and two threads.
    func testPackedFeedForwardEqualsTwoCalls() {
        let pool = bk_pool_create(2)
        defer { bk_pool_destroy(pool) }
        let k = 40, out = 50
        for inner in [1024, 200] {
            let wUp = pack(random(inner * k), nil, k: k, n: inner, pool: nil), wDown = pack(random(out * inner), nil, k: inner, n: out, pool: nil)
            let bUp = random(inner), bDown = random(out)
            var keep = [UInt32](repeating: 0, count: Int(bk_packed_mask_words(Int64(inner), Int64(out))))
            XCTAssertEqual(bk_pack_mask(nil, zeroedBits(out, inner, fraction: 0.2), Int64(inner), Int64(out), &keep), BK_OK)
            for m in [1, 13, 130, 250, 601] {
                let x = random(m * k)
                forEachISA { isa in
                    for p in [pool, nil] {
                        withAligned(wUp) { up in withAligned(wDown) { down in keep.withUnsafeBufferPointer { kp in
                            bUp.withUnsafeBufferPointer { bu in bDown.withUnsafeBufferPointer { bd in
                                let hidden = Pinned([Float](repeating: .nan, count: m * inner))
                                let want = Pinned([Float](repeating: .nan, count: m * out)), got = Pinned([Float](repeating: .nan, count: m * out))
                                var u = bk_packed_weight(packed: up, keep: nil, n: Int64(inner), bias: bu.baseAddress, y: hidden.p)
                                var d = bk_packed_weight(packed: down, keep: kp.baseAddress, n: Int64(out), bias: bd.baseAddress, y: want.p)
                                XCTAssertEqual(bk_linear_packed_multi(p, x, Int64(m), Int64(k), &u, 1, BK_EPILOGUE_GELU), BK_OK)
                                XCTAssertEqual(bk_linear_packed_multi(p, hidden.p, Int64(m), Int64(inner), &d, 1, BK_EPILOGUE_NONE), BK_OK)
                                d.y = got.p
                                XCTAssertEqual(bk_linear_packed_ffn(p, x, Int64(m), Int64(k), &u, &d), BK_OK)
                                XCTAssert(got.array.elementsEqual(want.array) { $0.bitPattern == $1.bitPattern },
                                          "\(isa) inner=\(inner) m=\(m) pool=\(p != nil)")
                                XCTAssertEqual(bk_linear_packed_ffn(p, x, Int64(m), Int64(k), &u, nil), BK_ERR_ARGUMENT)
                            } }
                        } } }
                    }
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
