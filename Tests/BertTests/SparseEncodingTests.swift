/// Tests for BertSparse: bitmaps, mask encoding (round trips, entropy bound, strict decoding),
/// CSR matrices and views, sparse deltas, base-plus-zeros detection and mask materialization.
import BertIR
import BertSparse
import Foundation
import XCTest

/// A small deterministic generator (SplitMix64) so failures reproduce.
private struct SparseTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Exactly k distinct positions of 0..<n chosen uniformly (partial Fisher-Yates), sorted.
private func randomPositions(n: Int, k: Int, _ g: inout SparseTestRNG) -> [Int] {
    var idx = Array(0..<n)
    for i in 0..<k { idx.swapAt(i, Int.random(in: i..<n, using: &g)) }
    return idx[0..<k].sorted()
}

private func decodeMask(_ bytes: [UInt8], _ n: Int) throws -> Bitmap {
    try bytes.withUnsafeBytes { try MaskEncoding.decode($0, count: n, file: "m.bin") }
}

final class SparseEncodingTests: XCTestCase {

    // MARK: Bitmap

    func testBitmapBitOrderAndPositions() throws {
        var b = Bitmap(n: 130)
        for i in [0, 5, 63, 64, 127, 129] { b.set(i) }
        XCTAssertEqual(b.words.count, 3)
        XCTAssertEqual(b.words[0], 1 | 1 << 5 | 1 << 63)
        XCTAssertEqual(b.words[1], 1 | 1 << 63)
        XCTAssertEqual(b.words[2], 1 << 1)
        XCTAssertEqual(b.count, 6)
        XCTAssertEqual(b.positions, [0, 5, 63, 64, 127, 129])
        XCTAssertTrue(b.test(63)); XCTAssertFalse(b.test(62)); XCTAssertTrue(b.test(129))
        XCTAssertEqual(Bitmap(n: 130, positions: [129, 0, 5, 63, 64, 127]), b)
        b.clear(5)
        XCTAssertEqual(b.positions, [0, 63, 64, 127, 129])
        let c = b.complement
        XCTAssertEqual(c.count, 125)
        XCTAssertFalse(c.test(0)); XCTAssertTrue(c.test(128))
        XCTAssertEqual(c.words[2], 1)   // bit 128 only: bits past 130 stay clear
        XCTAssertEqual(Bitmap(n: 0).positions, [])
        XCTAssertThrowsError(try Bitmap(n: 65, words: [0, 2], file: "w"))   // bit 65 past the end
        XCTAssertThrowsError(try Bitmap(n: 65, words: [0], file: "w"))
        XCTAssertEqual(try Bitmap(n: 65, words: [3, 1], file: "w").positions, [0, 1, 64])
    }

    // MARK: Mask encoding

    func testMaskRoundTripsRandomAndEdgeInputs() throws {
        var g = SparseTestRNG(1)
        for n in [0, 1, 2, 7, 8, 63, 64, 65, 1000, 10_000] {
            var ks = Set([0, n, n / 2, (n + 1) / 2, min(n, 1), max(0, n - 1)])
            for p in [0.001, 0.01, 0.1, 0.3, 0.6, 0.9, 0.99] { ks.insert(Int(Double(n) * p)) }
            for k in ks.sorted() {
                let mask = Bitmap(n: n, positions: randomPositions(n: n, k: k, &g))
                let bytes = MaskEncoding.encode(mask)
                XCTAssertEqual(try decodeMask(bytes, n), mask, "n=\(n) k=\(k)")
                XCTAssertEqual(MaskEncoding.encode(mask), bytes, "deterministic")
            }
        }
        // Clustered (non-random) masks: runs and one huge gap.
        let n = 100_000
        let runs = Bitmap(n: n, positions: Array(0..<500) + Array(50_000..<50_100) + [n - 1])
        XCTAssertEqual(try decodeMask(MaskEncoding.encode(runs), n), runs)
        let ends = Bitmap(n: n, positions: [0, n - 1])
        XCTAssertEqual(try decodeMask(MaskEncoding.encode(ends), n), ends)
    }

    func testMaskTagChoice() throws {
        var g = SparseTestRNG(2)
        let n = 10_000
        func tag(_ k: Int) -> UInt8 { MaskEncoding.encode(Bitmap(n: n, positions: randomPositions(n: n, k: k, &g)))[0] }
        XCTAssertEqual(tag(100), 1)      // sparse: Golomb positions
        XCTAssertEqual(tag(9_900), 2)    // dense: Golomb complement
        XCTAssertEqual(tag(5_000), 0)    // p = 0.5: nothing beats the bitmap
        // Empty and full masks cost only a few bytes.
        XCTAssertLessThanOrEqual(MaskEncoding.encode(Bitmap(n: n)).count, 8)
        XCTAssertLessThanOrEqual(MaskEncoding.encode(Bitmap(n: n).complement).count, 8)
    }

    func testMaskHandEncodedStreams() throws {
        // Bitmap: n = 10, positions {0, 2, 9}.
        XCTAssertEqual(try decodeMask([0, 10, 3, 0x05, 0x02], 10).positions, [0, 2, 9])
        // Golomb M = 2 (b = 1, u = 0), n = 20, positions {3, 4, 10}: gaps 3, 0, 5 ->
        // (q=1: 1 0, r=1: 1) (q=0: 0, r=0: 0) (q=2: 1 1 0, r=1: 1) = bits 1 0 1 0 0 1 1 0 | 1.
        XCTAssertEqual(try decodeMask([1, 20, 3, 2, 0x65, 0x01], 20).positions, [3, 4, 10])
        // Golomb M = 3 (b = 2, u = 1), n = 30, positions {2, 4, 9}: gaps 2, 1, 4 ->
        // (0 | r=2: v=3 -> 1 1) (0 | r=1: v=2 -> 1 0) (1 0 | r=1: 1 0) = bits 0 1 1 0 1 0 1 0 | 1 0.
        XCTAssertEqual(try decodeMask([1, 30, 3, 3, 0x56, 0x01], 30).positions, [2, 4, 9])
        // Complement of that: n - k = 3 coded positions, k = 27.
        let c = try decodeMask([2, 30, 27, 3, 0x56, 0x01], 30)
        XCTAssertEqual(c.count, 27)
        XCTAssertFalse(c.test(2)); XCTAssertFalse(c.test(4)); XCTAssertFalse(c.test(9)); XCTAssertTrue(c.test(0))
        // Varint n = 300 (0xAC 0x02), empty Golomb.
        XCTAssertEqual(try decodeMask([1, 0xAC, 0x02, 0, 1], 300), Bitmap(n: 300))
    }

    func testMaskDecoderRejectsMalformedInput() {
        let bad: [(String, [UInt8], Int)] = [
            ("empty", [], 10),
            ("unknown tag", [3, 10, 0], 10),
            ("wrong n", [0, 11, 0, 0, 0], 10),
            ("k > n", [1, 10, 11, 1], 10),
            ("non-shortest varint", [0, 0x8A, 0x00, 0, 0, 0], 10),
            ("bitmap truncated", [0, 10, 1, 0x01], 10),
            ("bitmap count mismatch", [0, 10, 2, 0x01, 0x00], 10),
            ("bitmap bit past n", [0, 10, 1, 0x00, 0x04], 10),
            ("trailing byte", [0, 10, 1, 0x01, 0x00, 0x00], 10),
            ("M = 0", [1, 10, 1, 0, 0x00], 10),
            ("Golomb truncated", [1, 20, 3, 2, 0x65], 20),
            ("Golomb past n", [1, 20, 3, 2, 0xFF, 0xFF, 0xFF], 20),
            ("Golomb padding bits", [1, 20, 3, 2, 0x65, 0x03], 20),
            ("Golomb trailing", [1, 20, 3, 2, 0x65, 0x01, 0x00], 20),
            ("huge varint", [1] + [UInt8](repeating: 0xFF, count: 12), 10),
        ]
        for (what, bytes, n) in bad {
            XCTAssertThrowsError(try decodeMask(bytes, n), what) { e in
                XCTAssertEqual((e as? BertError)?.file, "m.bin", what)
            }
        }
    }

    func testMaskDecoderSurvivesTruncationAndCorruption() throws {
        var g = SparseTestRNG(3)
        var checked = 0
        for (n, k) in [(200, 3), (200, 100), (200, 190), (5000, 50), (5000, 4990), (1, 1)] {
            let mask = Bitmap(n: n, positions: randomPositions(n: n, k: k, &g))
            let bytes = MaskEncoding.encode(mask)
            for len in 0..<bytes.count {
                XCTAssertThrowsError(try decodeMask(Array(bytes[0..<len]), n), "n=\(n) k=\(k) truncated to \(len)")
            }
            // Every single-bit flip (or a sample for long encodings): throws or decodes to n entries.
            let flips = bytes.count * 8 <= 4096 ? Array(0..<(bytes.count * 8))
                : (0..<2000).map { _ in Int.random(in: 0..<(bytes.count * 8), using: &g) }
            for f in flips {
                var b = bytes
                b[f / 8] ^= 1 << UInt8(f % 8)
                if let d = try? decodeMask(b, n) { XCTAssertEqual(d.n, n); XCTAssertLessThanOrEqual(d.count, n) }
                checked += 1
            }
            // Random garbage after a valid header.
            for _ in 0..<200 {
                var b = Array(bytes.prefix(4))
                b += (0..<Int.random(in: 0..<64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
                if let d = try? decodeMask(b, n) { XCTAssertEqual(d.n, n) }
            }
        }
        XCTAssertGreaterThan(checked, 1000)
    }

    func testEntropyBoundValues() {
        XCTAssertEqual(MaskEncoding.entropyBound(count: 8, set: 4), 1, accuracy: 1e-12)
        XCTAssertEqual(MaskEncoding.entropyBound(count: 100, set: 0), 0)
        XCTAssertEqual(MaskEncoding.entropyBound(count: 100, set: 100), 0)
        // H(0.25) = 0.8112781244591328 bits.
        XCTAssertEqual(MaskEncoding.entropyBound(count: 800, set: 200), 100 * 0.8112781244591328, accuracy: 1e-9)
        XCTAssertEqual(MaskEncoding.entropyBound(count: 800, set: 600), MaskEncoding.entropyBound(count: 800, set: 200), accuracy: 1e-9)
    }

    /// Issue 3: for p <= 0.5, size <= 1.10 * n H(p) / 8 + 64 bytes; p > 0.5 goes through the complement.
    func testMaskSizeMeetsEntropyBound() throws {
        var g = SparseTestRNG(4)
        var lines: [String] = []
        for n in [10_000, 590_000] {
            for p in [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999] {
                let k = Int((Double(n) * p).rounded())
                let mask = Bitmap(n: n, positions: randomPositions(n: n, k: k, &g))
                let bytes = MaskEncoding.encode(mask)
                let bound = MaskEncoding.entropyBound(count: n, set: k)
                XCTAssertLessThanOrEqual(Double(bytes.count), 1.10 * bound + 64, "n=\(n) p=\(p)")
                XCTAssertEqual(try decodeMask(bytes, n), mask)
                lines.append(String(format: "n=%-7d p=%-5g tag=%d bytes=%-7d entropy=%-9.1f ratio=%.4f",
                                    n, p, Int(bytes[0]), bytes.count, bound, Double(bytes.count) / bound))
            }
        }
        print("mask size vs entropy bound:\n" + lines.joined(separator: "\n"))
    }

    func testMaskRoundTripOnLargeTensor() throws {
        var g = SparseTestRNG(5)
        let n = 384 * 1536
        let mask = Bitmap(n: n, positions: randomPositions(n: n, k: n / 10, &g))
        let t0 = Date()
        let bytes = MaskEncoding.encode(mask)
        let t1 = Date()
        XCTAssertEqual(try decodeMask(bytes, n), mask)
        let t2 = Date()
        print(String(format: "mask 590k entries p=0.1: encode %.3f s, decode %.3f s", t1.timeIntervalSince(t0), t2.timeIntervalSince(t1)))
    }

    // MARK: CSR

    private func randomMatrix(rows: Int, cols: Int, density: Double, _ g: inout SparseTestRNG) -> [Float] {
        (0..<(rows * cols)).map { _ in
            let u = Double.random(in: 0..<1, using: &g)
            if u < density { return Float.random(in: -2...2, using: &g) }
            return u < density + (1 - density) / 4 ? -0.0 : 0.0
        }
    }

    private func view<R>(_ blob: [UInt8], rows: Int, cols: Int, _ body: (CSRView) throws -> R) throws -> R {
        try blob.withUnsafeBytes { try body(CSRView(bytes: $0, rows: rows, cols: cols, file: "w.bin")) }
    }

    func testCSRRoundTrip() throws {
        var g = SparseTestRNG(6)
        for (rows, cols, density) in [(1, 1, 1.0), (1, 1, 0.0), (7, 13, 0.3), (64, 100, 0.05), (384, 1536, 0.1), (5, 0, 0.5), (0, 4, 0.5)] {
            var dense = randomMatrix(rows: rows, cols: cols, density: density, &g)
            if rows > 3 && cols > 0 { for c in 0..<cols { dense[2 * cols + c] = 0 } }   // an empty row
            let m = dense.withUnsafeBufferPointer { CSRMatrix(dense: $0, rows: rows, cols: cols) }
            let expectedNNZ = dense.filter { $0 != 0 }.count
            XCTAssertEqual(m.nnz, expectedNNZ)
            XCTAssertEqual(m.rowPtr.count, rows + 1)
            if rows * cols > 0 { XCTAssertEqual(m.density, Double(expectedNNZ) / Double(rows * cols), accuracy: 1e-12) }
            let back = m.toDense()
            XCTAssertEqual(back.count, dense.count)
            for i in 0..<dense.count where dense[i] != back[i] || (dense[i] != 0 && dense[i].bitPattern != back[i].bitPattern) {
                XCTFail("[\(rows),\(cols)] entry \(i): \(dense[i]) vs \(back[i])"); break
            }
            XCTAssertTrue(back.allSatisfy { $0 != 0 || $0.bitPattern == 0 }, "dropped entries come back as +0")
            let blob = m.serialized()
            let lay = CSRMatrix.layout(rows: rows, cols: cols, nnz: m.nnz)!
            XCTAssertEqual(blob.count, lay.size)
            for off in [lay.rowPtrOffset, lay.colIdxOffset, lay.valuesOffset] { XCTAssertEqual(off % 64, 0) }
            // Header fields, read by hand.
            XCTAssertEqual(blob[0..<4].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }, rows)
            XCTAssertEqual(blob[4..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }, cols)
            XCTAssertEqual(blob[8..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }, expectedNNZ)
            XCTAssertEqual(blob[16], 2)
            try view(blob, rows: rows, cols: cols) { v in
                XCTAssertEqual(v.nnz, expectedNNZ)
                XCTAssertNotNil(v.colIdx16); XCTAssertNil(v.colIdx32)
                XCTAssertEqual(CSRMatrix(v), m)
                XCTAssertEqual(v.toDense(), back)
            }
        }
    }

    func testCSRIndexWidthBoundary() throws {
        for cols in [65536, 65537] {
            var dense = [Float](repeating: 0, count: 2 * cols)
            dense[cols - 1] = 1.5                 // row 0, last column
            dense[cols + 65535] = -2.5            // row 1, column 65535
            if cols == 65537 { dense[cols + 65536] = 3.5 }   // row 1, column 65536 needs 32 bits
            let m = dense.withUnsafeBufferPointer { CSRMatrix(dense: $0, rows: 2, cols: cols) }
            let wide = cols > 65536
            XCTAssertEqual(m.indexWidth, wide ? 4 : 2)
            XCTAssertEqual(m.colIdx16.count, wide ? 0 : m.nnz)
            XCTAssertEqual(m.colIdx32.count, wide ? m.nnz : 0)
            XCTAssertEqual(m.toDense(), dense)
            let blob = m.serialized()
            XCTAssertEqual(blob[16], wide ? 4 : 2)
            try view(blob, rows: 2, cols: cols) { v in
                XCTAssertEqual(v.colIdx32 != nil, wide)
                XCTAssertEqual(v.colIdx16 != nil, !wide)
                XCTAssertEqual(v.toDense(), dense)
            }
        }
    }

    func testCSRViewRejectsMalformedBlobs() throws {
        // 3 x 4: row 0 = [1, 0, 2, 0], row 1 empty, row 2 = [0, 0, 0, 3]; rowPtr = 0 2 2 3; cols 0 2 3.
        let dense: [Float] = [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3]
        let m = dense.withUnsafeBufferPointer { CSRMatrix(dense: $0, rows: 3, cols: 4) }
        XCTAssertEqual(m.rowPtr, [0, 2, 2, 3])
        XCTAssertEqual(m.colIdx16, [0, 2, 3])
        let blob = m.serialized()
        let lay = CSRMatrix.layout(rows: 3, cols: 4, nnz: 3)!
        func putI32(_ b: inout [UInt8], _ at: Int, _ v: Int32) { for s in 0..<4 { b[at + s] = UInt8(truncatingIfNeeded: v >> Int32(8 * s)) } }
        func expectFailure(_ what: String, _ b: [UInt8], rows: Int = 3, cols: Int = 4, contains: String) {
            XCTAssertThrowsError(try view(b, rows: rows, cols: cols) { _ in }, what) { e in
                guard let be = e as? BertError else { return XCTFail("\(what): not a BertError") }
                XCTAssertEqual(be.file, "w.bin")
                XCTAssertTrue(be.message.contains(contains), "\(what): \(be.message)")
            }
        }
        var b = blob; putI32(&b, lay.rowPtrOffset + 4, 3); putI32(&b, lay.rowPtrOffset + 8, 2)
        expectFailure("non-monotone rowPtr", b, contains: "decreases")
        b = blob; putI32(&b, lay.rowPtrOffset, 1)
        expectFailure("rowPtr[0]", b, contains: "rowPtr[0]")
        b = blob; putI32(&b, lay.rowPtrOffset + 12, 2)
        expectFailure("rowPtr end", b, contains: "nnz")
        b = blob; b[lay.colIdxOffset + 4] = 4     // third index -> column 4 of 4
        expectFailure("column out of range", b, contains: "column 4")
        b = blob; b[lay.colIdxOffset + 2] = 0     // row 0 columns 0, 0
        expectFailure("repeated column", b, contains: "after column")
        expectFailure("wrong shape", blob, rows: 3, cols: 5, contains: "header shape")
        b = blob; b[16] = 4
        expectFailure("index width", b, contains: "index width")
        b = blob; b[8] = 200
        expectFailure("nnz too large", b, contains: "nonzeros")
        for len in [0, 10, 17, lay.valuesOffset, blob.count - 1] {
            XCTAssertThrowsError(try view(Array(blob[0..<len]), rows: 3, cols: 4) { _ in }, "truncated to \(len)")
        }
        XCTAssertThrowsError(try view(blob + [0], rows: 3, cols: 4) { _ in }, "trailing byte")
        // Misaligned in memory.
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: blob.count + 1, alignment: 64)
        defer { raw.deallocate() }
        raw.copyBytes(from: [0] + blob)
        XCTAssertThrowsError(try CSRView(bytes: UnsafeRawBufferPointer(rebasing: raw[1...]), rows: 3, cols: 4, file: "w.bin"))
        // Random corruption never crashes; an accepted blob decodes to the right size.
        var g = SparseTestRNG(7)
        for _ in 0..<3000 {
            var c = blob
            c[Int.random(in: 0..<c.count, using: &g)] = UInt8.random(in: 0...255, using: &g)
            if let d = try? view(c, rows: 3, cols: 4, { $0.toDense() }) { XCTAssertEqual(d.count, 12) }
        }
    }

    // MARK: Sparse delta, base plus zeros, materialize

    func testSparseDeltaRoundTrip() throws {
        var g = SparseTestRNG(8)
        for (n, changes) in [(1, 0), (1, 1), (1000, 0), (1000, 10), (1000, 600), (100_000, 1000)] {
            let base = (0..<n).map { _ in Float.random(in: -1...1, using: &g) }
            var tensor = base
            let pos = randomPositions(n: n, k: changes, &g)
            for (j, p) in pos.enumerated() {
                switch j % 4 {
                case 0: tensor[p] = base[p] + 1
                case 1: tensor[p] = Float(bitPattern: base[p].bitPattern ^ 1)   // one ulp away
                case 2: tensor[p] = .nan
                default: tensor[p] = -base[p]
                }
            }
            let d = base.withUnsafeBufferPointer { b in tensor.withUnsafeBufferPointer { SparseDelta(base: b, tensor: $0) } }
            XCTAssertEqual(d.positions.positions, pos)
            XCTAssertEqual(d.values.map(\.bitPattern), pos.map { tensor[$0].bitPattern })
            let applied = base.withUnsafeBufferPointer { d.apply(to: $0) }
            XCTAssertEqual(applied.map(\.bitPattern), tensor.map(\.bitPattern))
            let blob = d.serialized()
            let back = try blob.withUnsafeBytes { try SparseDelta(bytes: $0, count: n, file: "d.bin") }
            XCTAssertEqual(back, d)
            XCTAssertThrowsError(try blob.withUnsafeBytes { try SparseDelta(bytes: $0, count: n + 1, file: "d.bin") })
            for len in Set([0, 1, blob.count / 2, blob.count - 1]) where len < blob.count {
                XCTAssertThrowsError(try Array(blob[0..<len]).withUnsafeBytes { try SparseDelta(bytes: $0, count: n, file: "d.bin") },
                                     "n=\(n) truncated to \(len)")
            }
            XCTAssertThrowsError(try (blob + [0, 0, 0, 0]).withUnsafeBytes { try SparseDelta(bytes: $0, count: n, file: "d.bin") })
        }
        // +0.0 vs -0.0 is a difference; the values start at a 4-byte offset after zero padding.
        let base: [Float] = [0, 1, 2]
        let tensor: [Float] = [-0.0, 1, 2]
        let d = base.withUnsafeBufferPointer { b in tensor.withUnsafeBufferPointer { SparseDelta(base: b, tensor: $0) } }
        XCTAssertEqual(d.positions.positions, [0])
        let blob = d.serialized()
        XCTAssertEqual(blob.count % 4, 0)
        XCTAssertEqual(Array(blob.suffix(4)), [0, 0, 0, 0x80])
        var bad = blob
        let mask = MaskEncoding.encode(d.positions)
        if mask.count % 4 != 0 {
            bad[mask.count] = 1   // a nonzero padding byte
            XCTAssertThrowsError(try bad.withUnsafeBytes { try SparseDelta(bytes: $0, count: 3, file: "d.bin") })
        }
    }

    func testIsBasePlusZeros() {
        let base: [Float] = [1, -2, 0, 3, 0, 5, .nan, 7]
        func check(_ t: [Float]) -> [Int]? {
            base.withUnsafeBufferPointer { b in t.withUnsafeBufferPointer { SparseDelta.isBasePlusZeros(base: b, tensor: $0) } }?.positions
        }
        XCTAssertEqual(check(base), [])
        XCTAssertEqual(check([0, -2, 0, -0.0, 0, 5, 0, 7]), [0, 3, 6])
        XCTAssertEqual(check([1, -2, -0.0, 3, 0, 0, .nan, 7]), [5], "a base zero made -0.0 is not in the mask")
        XCTAssertNil(check([1, -2, 0, 3, 0, 5, .nan, 7.0001]))
        XCTAssertNil(check([1, -2, 1e-30, 3, 0, 5, .nan, 7]), "a tiny nonzero is not a zero")
        XCTAssertNil(check([1, -2, 0, 3, 0, 5, .nan]), "length mismatch")
        XCTAssertNil(check([1, -2, 0, 3, 0, 5, Float(bitPattern: 0x7fc0_0001), 7]), "different NaN bits")
        // Large random case with a known mask.
        var g = SparseTestRNG(9)
        let n = 384 * 1536
        let big = (0..<n).map { _ in Float.random(in: 0.5...1, using: &g) }
        let zeroed = randomPositions(n: n, k: n / 10, &g)
        var t = big
        for p in zeroed { t[p] = 0 }
        let found = big.withUnsafeBufferPointer { b in t.withUnsafeBufferPointer { SparseDelta.isBasePlusZeros(base: b, tensor: $0) } }
        XCTAssertEqual(found?.positions, zeroed)
        if let found {
            let mat = big.withUnsafeBufferPointer { Materialize.applyMask(base: $0, zeroed: found) }
            XCTAssertEqual(mat, t)
        }
    }

    func testMaterializeApplyMask() {
        let base: [Float] = [1, 2, 3, 4, 5]
        let out = base.withUnsafeBufferPointer { Materialize.applyMask(base: $0, zeroed: Bitmap(n: 5, positions: [1, 4])) }
        XCTAssertEqual(out, [1, 0, 3, 4, 0])
        XCTAssertEqual(out[1].bitPattern, 0)
        XCTAssertEqual(base.withUnsafeBufferPointer { Materialize.applyMask(base: $0, zeroed: Bitmap(n: 5)) }, base)
    }
}
