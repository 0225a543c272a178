/// The operations of the BERT encoder graph. Each has a fixed operand signature that the
/// verifier checks (see `Verifier.swift`):
///
/// | op          | operands                                        | attributes | result          |
/// |-------------|-------------------------------------------------|------------|-----------------|
/// | input       | -                                               | name       | i32[B, S]       |
/// | embeddings  | %ids, %types, @word, @position, @token_type     | -          | f32[B, S, H]    |
/// | layer_norm  | %x, @gamma, @beta                               | eps        | same as %x      |
/// | linear      | %x, @weight[N, K], @bias[N]? (y = x W^T + b)    | -          | f32[..., N]     |
/// | attention   | %q, %k, %v, %mask                               | heads      | f32[B, S, H]    |
/// | add         | %a, %b                                          | -          | same as %a      |
/// | gelu        | %x (exact erf GELU)                             | -          | same as %x      |
/// | tanh        | %x                                              | -          | same as %x      |
/// | cls         | %x: f32[B, S, H] (token 0)                      | -          | f32[B, H]       |
/// | output      | %x                                              | name       | -               |
public enum OpKind: String, Sendable, CaseIterable {
    case input, embeddings
    case layerNorm = "layer_norm"
    case linear, attention, add, gelu, tanh, cls, output
}

/// An operand: a graph value `%name` or a weight tensor `@name`.
public enum Operand: Hashable, Sendable, CustomStringConvertible {
    case value(String)
    case tensor(String)

    public var description: String {
        switch self {
        case .value(let v): return "%" + v
        case .tensor(let t): return "@" + t
        }
    }
}

/// One operation: `%result = kind operands {attributes} : type`.
public struct Op: Hashable, Sendable {
    public var result: String?
    public var kind: OpKind
    public var operands: [Operand]
    public var attributes: [NamedAttribute]
    public var type: ValueType?

    public init(result: String?, kind: OpKind, operands: [Operand] = [], attributes: [NamedAttribute] = [],
                type: ValueType? = nil) {
        self.result = result; self.kind = kind; self.operands = operands
        self.attributes = attributes; self.type = type
    }

    /// Names of the weight tensors this op reads.
    public var tensorOperands: [String] {
        operands.compactMap { if case .tensor(let t) = $0 { return t }; return nil }
    }
}
