/// `CSRMatrix`: compressed sparse rows of a [rows, cols] f32 matrix (rows = output neurons of a linear
/// layer in PyTorch [N, K] layout). Entries equal to 0 (+0.0 and -0.0) are dropped.
///
/// Serialized blob (little-endian): header u32 rows, u32 cols, u64 nnz, u8 index width (2 or 4 bytes),
/// zero padding; then rowPtr (Int32, rows + 1), column indices (UInt16 when cols <= 65536, else UInt32)
/// and values (Float, nnz), each at a 64-byte aligned offset from the blob start, zero padding between.
/// The blob ends right after the values. `CSRView` reads such a blob in place.
import BertIR

public struct CSRMatrix: Equatable, Sendable {
    public let rows: Int
    public let cols: Int
    /// rows + 1 offsets into colIdx/values; rowPtr[0] == 0, rowPtr[rows] == nnz.
    public private(set) var rowPtr: [Int32]
    /// Column indices when `indexWidth == 2` (else empty).
    public private(set) var colIdx16: [UInt16]
    /// Column indices when `indexWidth == 4` (else empty).
    public private(set) var colIdx32: [UInt32]
    public private(set) var values: [Float]

    /// Bytes per column index for a matrix of `cols` columns.
    public static func indexWidth(cols: Int) -> Int { cols <= 65536 ? 2 : 4 }
    public var indexWidth: Int { CSRMatrix.indexWidth(cols: cols) }
    public var nnz: Int { values.count }
    public var density: Double { rows * cols == 0 ? 0 : Double(nnz) / Double(rows * cols) }

    /// Keeps the nonzero entries of a row-major `rows x cols` matrix.
    public init(dense: UnsafeBufferPointer<Float>, rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0 && rows <= Int(UInt32.max) && cols <= Int(UInt32.max),
                     "CSRMatrix: bad shape [\(rows), \(cols)]")
        precondition(dense.count == rows * cols, "CSRMatrix: \(dense.count) entries for [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        var nnz = 0
        for x in dense where x != 0 { nnz += 1 }
        precondition(nnz <= Int(Int32.max), "CSRMatrix: \(nnz) nonzeros exceed Int32 row pointers")
        var rowPtr = [Int32](repeating: 0, count: rows + 1)
        var values = [Float](repeating: 0, count: nnz)
        let wide = CSRMatrix.indexWidth(cols: cols) == 4
        var c16 = [UInt16](repeating: 0, count: wide ? 0 : nnz)
        var c32 = [UInt32](repeating: 0, count: wide ? nnz : 0)
        rowPtr.withUnsafeMutableBufferPointer { rp in
            values.withUnsafeMutableBufferPointer { v in
                c16.withUnsafeMutableBufferPointer { i16 in
                    c32.withUnsafeMutableBufferPointer { i32 in
                        var k = 0
                        for r in 0..<rows {
                            let base = r * cols
                            for c in 0..<cols {
                                let x = dense[base + c]
                                if x != 0 {
                                    v[k] = x
                                    if wide { i32[k] = UInt32(c) } else { i16[k] = UInt16(c) }
                                    k += 1
                                }
                            }
                            rp[r + 1] = Int32(k)
                        }
                    }
                }
            }
        }
        self.rowPtr = rowPtr
        self.values = values
        self.colIdx16 = c16
        self.colIdx32 = c32
    }

    /// Copies a validated view.
    public init(_ view: CSRView) {
        rows = view.rows
        cols = view.cols
        rowPtr = Array(UnsafeBufferPointer(start: view.rowPtr, count: view.rows + 1))
        values = Array(UnsafeBufferPointer(start: view.values, count: view.nnz))
        colIdx16 = view.colIdx16.map { Array(UnsafeBufferPointer(start: $0, count: view.nnz)) } ?? []
        colIdx32 = view.colIdx32.map { Array(UnsafeBufferPointer(start: $0, count: view.nnz)) } ?? []
    }

    /// The row-major dense matrix (dropped entries become +0.0).
    public func toDense() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        let wide = indexWidth == 4
        out.withUnsafeMutableBufferPointer { o in
            rowPtr.withUnsafeBufferPointer { rp in
                values.withUnsafeBufferPointer { v in
                    colIdx16.withUnsafeBufferPointer { i16 in
                        colIdx32.withUnsafeBufferPointer { i32 in
                            for r in 0..<rows {
                                let base = r * cols
                                for k in Int(rp[r])..<Int(rp[r + 1]) {
                                    o[base + (wide ? Int(i32[k]) : Int(i16[k]))] = v[k]
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Byte offsets of the serialized sections and the blob's total size.
    public struct Layout: Equatable, Sendable {
        public let rowPtrOffset: Int
        public let colIdxOffset: Int
        public let valuesOffset: Int
        public let size: Int
    }

    public static let headerSize = 17
    public static let alignment = 64

    /// Layout of a blob; nil when the sizes overflow.
    public static func layout(rows: Int, cols: Int, nnz: Int) -> Layout? {
        guard rows >= 0, cols >= 0, nnz >= 0, rows < Int(Int32.max), nnz <= Int(Int32.max) else { return nil }
        let rp = alignUp(headerSize, alignment)
        let ci = alignUp(rp + (rows + 1) * 4, alignment)
        let va = alignUp(ci + nnz * indexWidth(cols: cols), alignment)
        return Layout(rowPtrOffset: rp, colIdxOffset: ci, valuesOffset: va, size: va + nnz * 4)
    }

    public func serialized() -> [UInt8] {
        let lay = CSRMatrix.layout(rows: rows, cols: cols, nnz: nnz)!
        var w = ByteWriter()
        w.bytes.reserveCapacity(lay.size)
        w.u32(UInt32(rows)); w.u32(UInt32(cols)); w.u64(UInt64(nnz)); w.u8(UInt8(indexWidth))
        w.pad(to: CSRMatrix.alignment)
        rowPtr.withUnsafeBufferPointer { w.raw($0) }
        w.pad(to: CSRMatrix.alignment)
        if indexWidth == 2 { colIdx16.withUnsafeBufferPointer { w.raw($0) } } else { colIdx32.withUnsafeBufferPointer { w.raw($0) } }
        w.pad(to: CSRMatrix.alignment)
        values.withUnsafeBufferPointer { w.raw($0) }
        assert(w.bytes.count == lay.size)
        return w.bytes
    }
}
