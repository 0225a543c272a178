/// Element types a tensor or value can have. Float tensors are widened to `f32` at import.
public enum DType: String, Sendable, CaseIterable {
    case f32, f16, bf16, i64, i32

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i64: return 8
        }
    }
}

/// One dimension of a value type: fixed, or symbolic (`B` batch, `S` sequence).
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case symbol(String)

    public static let batch = Dim.symbol("B")
    public static let seq = Dim.symbol("S")

    public var description: String {
        switch self {
        case .fixed(let n): return String(n)
        case .symbol(let s): return s
        }
    }
}

/// The type of a graph value, e.g. `f32[B, S, 384]`.
public struct ValueType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var dims: [Dim]
    public init(_ dtype: DType, _ dims: [Dim]) { self.dtype = dtype; self.dims = dims }
    public var description: String { "\(dtype.rawValue)[\(dims.map(\.description).joined(separator: ", "))]" }
}
