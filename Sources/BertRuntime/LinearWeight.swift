import BertIR
import BertSparse
import CBertKernels

/// How the engine executes one linear layer's weight, chosen from the IR's compute format.
public enum LinearWeight: @unchecked Sendable {
    /// Blocked dense GEMM over these values (mapped or materialised).
    case dense(TensorBuffer)
    /// CSR times dense activations, vectorised across tokens. `owner` keeps the arrays alive.
    case csr(rows: Int, cols: Int, rowPtr: UnsafePointer<Int32>, colIdx: UnsafeRawPointer, indexBytes: Int,
             values: UnsafePointer<Float>, owner: AnyObject)
    /// The base's dense weights with these entries zeroed while packing: the base is never copied.
    case masked(base: TensorBuffer, zeroed: Bitmap)
    /// Dense weights packed once in panel order (what the engine runs dense and masked layers as).
    case packed(PackedWeight)
    /// A masked task over its base's packed weights: the panels are loaded through the task's keep mask.
    case packedMasked(base: PackedWeight, keep: PackedMask)

    /// A CSR weight over a validated view (which points into a mapped artifact that `owner` keeps alive).
    public static func csr(_ v: CSRView, rows: Int, cols: Int, owner: AnyObject) -> LinearWeight {
        if let c16 = v.colIdx16 {
            return .csr(rows: rows, cols: cols, rowPtr: v.rowPtr, colIdx: UnsafeRawPointer(c16), indexBytes: 2,
                        values: v.values, owner: owner)
        }
        return .csr(rows: rows, cols: cols, rowPtr: v.rowPtr, colIdx: UnsafeRawPointer(v.colIdx32!), indexBytes: 4,
                    values: v.values, owner: owner)
    }

    /// A CSR weight built from dense values (e.g. a base with a mask applied), owning its arrays:
    /// the matrix is serialised into an aligned allocation and read back through a validated view.
    public static func csr(dense: UnsafeBufferPointer<Float>, rows: Int, cols: Int) throws -> LinearWeight {
        let blob = OwnedBlob(CSRMatrix(dense: dense, rows: rows, cols: cols).serialized())
        let view = try CSRView(bytes: blob.bytes, rows: rows, cols: cols, file: "<csr>")
        return .csr(view, rows: rows, cols: cols, owner: blob)
    }

    /// What the engine runs: dense and masked weights packed once (shared through `packer`), CSR as is.
    func prepared(packer: WeightPacker, pool: OpaquePointer?) throws -> LinearWeight {
        switch self {
        case .dense(let t): return .packed(try packer.packed(t, pool: pool))
        case .masked(let base, let zeroed):
            let p = try packer.packed(base, pool: pool)
            return .packedMasked(base: p, keep: try PackedMask(zeroed, rows: p.rows, cols: p.cols, pool: pool))
        case .csr, .packed, .packedMasked: return self
        }
    }

    /// This weight as one part of a bk_linear_packed_multi call (packed and packed-masked weights over `k` inputs),
    /// or nil. The pointers stay valid while the weight (held by the engine) lives; `y` may be set later.
    func packedPart(k: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>?) -> bk_packed_weight? {
        switch self {
        case .packed(let w) where w.cols == k:
            return bk_packed_weight(packed: w.pointer, keep: nil, n: Int64(w.rows), bias: bias, y: y)
        case .packedMasked(let w, let keep) where w.cols == k:
            return bk_packed_weight(packed: w.pointer, keep: keep.pointer, n: Int64(w.rows), bias: bias, y: y)
        default:
            return nil
        }
    }

    /// Output features (rows of the [N, K] weight).
    var rows: Int {
        switch self {
        case .dense(let t): return t.shape[0]
        case .csr(let r, _, _, _, _, _, _): return r
        case .masked(let b, _): return b.shape[0]
        case .packed(let p), .packedMasked(let p, _): return p.rows
        }
    }

    /// y = x W^T + bias, then GELU when `gelu` (fused into the packed GEMM and CSR, a separate pass otherwise).
    func apply(pool: OpaquePointer?, x: UnsafePointer<Float>, m: Int, k: Int, bias: UnsafePointer<Float>?,
               gelu: Bool = false, y: UnsafeMutablePointer<Float>) throws {
        let epilogue = gelu ? BK_EPILOGUE_GELU : BK_EPILOGUE_NONE
        switch self {
        case .dense(let w):
            try check(bk_linear(pool, x, Int64(m), Int64(k), w.pointer, Int64(w.shape[0]), bias, y), "linear")
        case .csr(let rows, _, let rowPtr, let colIdx, let indexBytes, let values, _):
            try check(bk_csr_linear_ex(pool, x, Int64(m), Int64(k), rowPtr, colIdx, Int32(indexBytes), values, Int64(rows),
                                       bias, epilogue, y), "csr linear")
            return
        case .masked(let base, let zeroed):
            try zeroed.words.withUnsafeBufferPointer { bits in
                try check(bk_masked_linear(pool, x, Int64(m), Int64(k), base.pointer, bits.baseAddress, Int64(base.shape[0]),
                                           bias, y), "masked linear")
            }
        case .packed(let w):
            guard k == w.cols else { throw BertError("linear: input has \(k) features, weight expects \(w.cols)") }
            try check(bk_linear_packed(pool, x, Int64(m), Int64(k), w.pointer, nil, Int64(w.rows), bias, epilogue, y), "linear")
            return
        case .packedMasked(let w, let keep):
            guard k == w.cols else { throw BertError("linear: input has \(k) features, weight expects \(w.cols)") }
            try check(bk_linear_packed(pool, x, Int64(m), Int64(k), w.pointer, keep.pointer, Int64(w.rows), bias,
                                       epilogue, y), "masked linear")
            withExtendedLifetime(keep) {}
            return
        }
        if gelu { bk_gelu_erf(y, m * rows) }
    }
}

/// Bytes in a 64-byte aligned allocation that lives as long as this object.
final class OwnedBlob: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    let count: Int
    init(_ bytes: [UInt8]) {
        count = bytes.count
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        bytes.withUnsafeBytes { src in
            if let b = src.baseAddress { raw.copyMemory(from: b, byteCount: count) }
        }
    }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: raw, count: count) }
    deinit { raw.deallocate() }
}
