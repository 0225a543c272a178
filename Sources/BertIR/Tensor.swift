/// How a weight tensor is kept in the artifact. Storage and compute are separate decisions.
///
/// - `dense`: the tensor's bytes are stored in the artifact.
/// - `shared`: bitwise identical to the base model's tensor of the same name and shape; the
///   artifact stores only the reference (the base is mapped at run time).
/// Later encodings (mask, csr, delta) slot in here.
public enum Storage: String, Sendable, CaseIterable {
    case dense, shared
}

/// How a weight tensor is executed by the runtime.
public enum ComputeFormat: String, Sendable, CaseIterable {
    case dense
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
