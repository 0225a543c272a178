/// How a weight tensor is kept in the artifact. Storage and compute are separate decisions.
///
/// - `dense`: the tensor's bytes are stored in the artifact.
/// - `shared`: bitwise identical to the base model's tensor of the same name and shape; the
///   artifact stores only the reference (the base is mapped at run time).
/// - `mask`: the base's tensor with some entries set to exactly 0.0; the artifact stores only
///   the zeroed positions (a bitmap or delta-coded positions, whichever is smaller).
/// - `csr`: the tensor's own values in compressed sparse rows (row pointers, column indices,
///   values); no base needed.
/// - `delta`: the base's tensor with a few entries changed; the artifact stores the changed
///   positions and their new values.
public enum Storage: String, Sendable, CaseIterable {
    case dense, shared, mask, csr, delta

    /// True when the tensor's values are derived from the base model's tensor of the same name.
    public var needsBase: Bool { self == .shared || self == .mask || self == .delta }
}

/// How a weight tensor is executed by the runtime, independent of how it is stored.
///
/// - `dense`: the plain blocked GEMM over a dense matrix (materialised if stored otherwise).
/// - `csr`: the CSR sparse-times-dense kernel, vectorised across tokens.
/// - `masked`: the dense GEMM over the base's weights with the mask applied while packing, so
///   tasks over one base never copy it.
public enum ComputeFormat: String, Sendable, CaseIterable {
    case dense, csr, masked
}

/// A named weight tensor declared by a module: `tensor @name : f32[384, 384] {storage = dense}`.
public struct TensorDecl: Hashable, Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var storage: Storage
    public var compute: ComputeFormat
    /// Extra attributes later passes attach (density, encodings, ...), printed in order.
    public var attributes: [NamedAttribute]

    public init(name: String, dtype: DType = .f32, shape: [Int], storage: Storage = .dense,
                compute: ComputeFormat = .dense, attributes: [NamedAttribute] = []) {
        self.name = name; self.dtype = dtype; self.shape = shape
        self.storage = storage; self.compute = compute; self.attributes = attributes
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Bytes of the tensor when held densely.
    public var denseBytes: Int { elementCount * dtype.size }
}
