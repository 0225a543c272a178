/// `CSRView`: a non-owning, validated view of a serialized CSR blob (layout in CSRMatrix.swift), so the
/// runtime can compute straight from the memory-mapped artifact. The blob must outlive the view.
import BertIR

public struct CSRView: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let nnz: Int
    /// 2 (colIdx16) or 4 (colIdx32).
    public let indexWidth: Int
    public let rowPtr: UnsafePointer<Int32>
    public let colIdx16: UnsafePointer<UInt16>?
    public let colIdx32: UnsafePointer<UInt32>?
    public let values: UnsafePointer<Float>

    public var density: Double { rows * cols == 0 ? 0 : Double(nnz) / Double(rows * cols) }

    /// Validates the blob against the expected shape: header, exact size, alignment, row pointers
    /// (start at 0, non-decreasing, end at nnz) and every column index < cols.
    public init(bytes: UnsafeRawBufferPointer, rows: Int, cols: Int, file: String) throws {
        var r = ByteReader(bytes, file: file, what: "CSR blob")
        guard rows >= 0, cols >= 0, rows <= Int(UInt32.max), cols <= Int(UInt32.max) else {
            throw r.fail("bad shape [\(rows), \(cols)]")
        }
        let hRows = Int(try r.u32("row count")), hCols = Int(try r.u32("column count"))
        guard hRows == rows, hCols == cols else {
            throw r.fail("header shape [\(hRows), \(hCols)] but the tensor is [\(rows), \(cols)]")
        }
        let nnz64 = try r.u64("nonzero count")
        let (cells, over) = rows.multipliedReportingOverflow(by: cols)
        guard !over, nnz64 <= UInt64(cells) else { throw r.fail("\(nnz64) nonzeros in a [\(rows), \(cols)] matrix") }
        let nnz = Int(nnz64)
        let width = Int(try r.u8("index width"))
        guard width == CSRMatrix.indexWidth(cols: cols) else {
            throw r.fail("index width \(width) but \(cols) columns need \(CSRMatrix.indexWidth(cols: cols))")
        }
        guard let lay = CSRMatrix.layout(rows: rows, cols: cols, nnz: nnz) else {
            throw r.fail("\(nnz) nonzeros or \(rows) rows exceed Int32 row pointers")
        }
        guard bytes.count == lay.size else { throw r.fail("\(bytes.count) bytes but the layout needs \(lay.size)") }
        guard let base = bytes.baseAddress, Int(bitPattern: base) % 4 == 0 else {
            throw r.fail("blob is not 4-byte aligned in memory")
        }
        let rp = (base + lay.rowPtrOffset).assumingMemoryBound(to: Int32.self)
        guard rp[0] == 0 else { throw r.fail("rowPtr[0] is \(rp[0]), not 0") }
        for i in 0..<rows {
            guard rp[i + 1] >= rp[i] else { throw r.fail("rowPtr decreases at row \(i) (\(rp[i]) then \(rp[i + 1]))") }
        }
        guard Int(rp[rows]) == nnz else { throw r.fail("rowPtr[\(rows)] is \(rp[rows]) but nnz is \(nnz)") }
        // Within a row the column indices must be < cols (and strictly increasing: one entry per cell).
        var c16: UnsafePointer<UInt16>? = nil, c32: UnsafePointer<UInt32>? = nil
        if width == 2 {
            let c = UnsafePointer((base + lay.colIdxOffset).assumingMemoryBound(to: UInt16.self))
            try Self.checkColumns(c, rowPtr: rp, rows: rows, cols: cols, reader: r)
            c16 = c
        } else {
            let c = UnsafePointer((base + lay.colIdxOffset).assumingMemoryBound(to: UInt32.self))
            try Self.checkColumns(c, rowPtr: rp, rows: rows, cols: cols, reader: r)
            c32 = c
        }
        self.rows = rows
        self.cols = cols
        self.nnz = nnz
        self.indexWidth = width
        self.rowPtr = UnsafePointer(rp)
        self.colIdx16 = c16
        self.colIdx32 = c32
        self.values = UnsafePointer((base + lay.valuesOffset).assumingMemoryBound(to: Float.self))
    }

    /// The row-major dense matrix.
    public func toDense() -> [Float] { CSRMatrix(self).toDense() }
}

extension CSRView {
    /// Within each row the column indices must be < cols and strictly increasing (one entry per cell).
    static func checkColumns<Index: FixedWidthInteger>(_ c: UnsafePointer<Index>, rowPtr rp: UnsafePointer<Int32>,
                                                       rows: Int, cols: Int, reader r: ByteReader) throws {
        for row in 0..<rows {
            var prev = -1
            for k in Int(rp[row])..<Int(rp[row + 1]) {
                let col = Int(c[k])
                guard col < cols, col > prev else { throw r.fail(badColumn(row, col, prev, cols)) }
                prev = col
            }
        }
    }
}

private func badColumn(_ row: Int, _ col: Int, _ prev: Int, _ cols: Int) -> String {
    col >= cols ? "row \(row) has column \(col) but the matrix has \(cols) columns"
                : "row \(row) has column \(col) after column \(prev) (columns must increase)"
}
