/// A compiled model: weight tensor declarations followed by the op list of the graph.
///
/// Textual form (printed by `IRPrinter`, read back by `IRParser`):
///
///     module @name {
///       tensor @embeddings.word_embeddings.weight : f32[1000, 32] {storage = dense}
///       ...
///       %input_ids = input {name = "input_ids"} : i32[B, S]
///       %0 = embeddings %input_ids, %token_type_ids, @..., @..., @... : f32[B, S, 32]
///       ...
///       output %13 {name = "last_hidden_state"}
///     }
public struct Module: Hashable, Sendable {
    public var name: String
    public var tensors: [TensorDecl]
    public var ops: [Op]

    public init(name: String, tensors: [TensorDecl] = [], ops: [Op] = []) {
        self.name = name; self.tensors = tensors; self.ops = ops
    }

    public func tensor(named name: String) -> TensorDecl? { tensors.first { $0.name == name } }

    public func tensorIndex(named name: String) -> Int? { tensors.firstIndex { $0.name == name } }

    /// Names of the graph outputs in order.
    public var outputNames: [String] {
        ops.filter { $0.kind == .output }.compactMap { $0.attributes[attr: "name"]?.stringValue }
    }
}
