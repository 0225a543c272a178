/// The per-op signature table (operand kinds, required attributes) and shape inference rules the
/// verifier applies. Each rule returns the op's result type from its operand types, or a message
/// (without the node prefix) describing the fault.

/// One operand position of an op signature.
public enum OperandSlot: Sendable {
    /// A graph value `%name`, named for messages.
    case value(String)
    /// A declared weight tensor `@name`.
    case tensor(String)
    /// A trailing weight tensor that may be absent.
    case optionalTensor(String)

    var label: String {
        switch self {
        case .value(let n): return "%" + n
        case .tensor(let n): return "@" + n
        case .optionalTensor(let n): return "@" + n + "?"
        }
    }
}

/// What a verifier rule sees of an operand: a value's type or a tensor's declaration.
public enum ResolvedOperand {
    case value(String, ValueType)
    case tensor(TensorDecl)
}

public enum ShapeRules {
    /// The operand signature of each op (the table in `Op.swift`).
    public static func signature(_ kind: OpKind) -> [OperandSlot] {
        switch kind {
        case .input: return []
        case .embeddings: return [.value("ids"), .value("types"), .tensor("word"), .tensor("position"), .tensor("token_type")]
        case .layerNorm: return [.value("x"), .tensor("gamma"), .tensor("beta")]
        case .linear: return [.value("x"), .tensor("weight"), .optionalTensor("bias")]
        case .attention: return [.value("q"), .value("k"), .value("v"), .value("mask")]
        case .add: return [.value("a"), .value("b")]
        case .gelu, .tanh, .cls, .output: return [.value("x")]
        }
    }

    struct Fault: Error { var message: String; init(_ m: String) { message = m } }

    static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    static func requireF32(_ t: TensorDecl, _ role: String) throws {
        guard t.dtype == .f32 else { throw Fault("\(role) @\(t.name) has dtype \(t.dtype.rawValue), expected f32") }
    }

    static func lastFixed(_ t: ValueType, _ role: String) throws -> Int {
        guard let last = t.dims.last else { throw Fault("\(role) has type \(t) but must have at least one dimension") }
        guard case .fixed(let n) = last else { throw Fault("\(role) has type \(t) but its last dimension must be a fixed size") }
        return n
    }

    static func floatAttr(_ attrs: [NamedAttribute], _ name: String) throws -> Double {
        guard let a = attrs[attr: name] else { throw Fault("missing attribute '\(name)'") }
        guard case .float(let v) = a else { throw Fault("attribute '\(name)' must be a float") }
        guard v.isFinite, v > 0 else { throw Fault("attribute '\(name)' must be a finite float > 0, got \(v)") }
        return v
    }

    static func intAttr(_ attrs: [NamedAttribute], _ name: String) throws -> Int {
        guard let a = attrs[attr: name] else { throw Fault("missing attribute '\(name)'") }
        guard case .int(let v) = a else { throw Fault("attribute '\(name)' must be an integer") }
        guard v > 0 else { throw Fault("attribute '\(name)' must be > 0, got \(v)") }
        return v
    }

    static func stringAttr(_ attrs: [NamedAttribute], _ name: String) throws -> String {
        guard let a = attrs[attr: name] else { throw Fault("missing attribute '\(name)'") }
        guard case .string(let v) = a else { throw Fault("attribute '\(name)' must be a string") }
        return v
    }

    /// Infers the result type of `kind` (nil for `output`), given operands already matched to the
    /// signature (values resolved to types, tensors to declarations; the optional bias may be absent).
    static func infer(_ kind: OpKind, _ ops: [ResolvedOperand], _ attrs: [NamedAttribute]) throws -> ValueType? {
        func value(_ i: Int) -> ValueType? {
            guard i < ops.count, case .value(_, let t) = ops[i] else { return nil }
            return t
        }
        func tensor(_ i: Int) -> TensorDecl? {
            guard i < ops.count, case .tensor(let d) = ops[i] else { return nil }
            return d
        }
        switch kind {
        case .input:
            _ = try stringAttr(attrs, "name")
            return ValueType(.i32, [.batch, .seq])

        case .embeddings:
            guard let ids = value(0), let types = value(1), let word = tensor(2), let pos = tensor(3), let tt = tensor(4) else {
                throw Fault("malformed operands")
            }
            guard ids.dtype == .i32 || ids.dtype == .i64, ids.dims.count == 2 else {
                throw Fault("ids has type \(ids) but must be i32[B, S]")
            }
            guard types.dims == ids.dims, types.dtype == .i32 || types.dtype == .i64 else {
                throw Fault("token types have type \(types) but ids have type \(ids)")
            }
            for (t, role) in [(word, "word table"), (pos, "position table"), (tt, "token type table")] {
                try requireF32(t, role)
                guard t.shape.count == 2 else { throw Fault("\(role) @\(t.name) has shape \(shape(t.shape)) but must be 2-D [rows, H]") }
            }
            let h = word.shape[1]
            for (t, role) in [(pos, "position table"), (tt, "token type table")] where t.shape[1] != h {
                throw Fault("\(role) @\(t.name) has shape \(shape(t.shape)) but word table @\(word.name) has hidden size \(h)")
            }
            return ValueType(.f32, [ids.dims[0], ids.dims[1], .fixed(h)])

        case .layerNorm:
            guard let x = value(0), let gamma = tensor(1), let beta = tensor(2) else { throw Fault("malformed operands") }
            guard x.dtype == .f32 else { throw Fault("input has type \(x) but must be f32") }
            let h = try lastFixed(x, "input")
            for (t, role) in [(gamma, "gamma"), (beta, "beta")] {
                try requireF32(t, role)
                guard t.shape == [h] else { throw Fault("\(role) @\(t.name) has shape \(shape(t.shape)) but input has last dim \(h)") }
            }
            _ = try floatAttr(attrs, "eps")
            return x

        case .linear:
            guard let x = value(0), let w = tensor(1) else { throw Fault("malformed operands") }
            guard x.dtype == .f32 else { throw Fault("input has type \(x) but must be f32") }
            let k = try lastFixed(x, "input")
            try requireF32(w, "weight")
            guard w.shape.count == 2 else { throw Fault("weight @\(w.name) has shape \(shape(w.shape)) but must be 2-D [N, K]") }
            guard w.shape[1] == k else {
                throw Fault("weight @\(w.name) has shape \(shape(w.shape)) but input has last dim \(k)")
            }
            let n = w.shape[0]
            if let b = tensor(2) {
                try requireF32(b, "bias")
                guard b.shape == [n] else {
                    throw Fault("bias @\(b.name) has shape \(shape(b.shape)) but weight @\(w.name) has \(n) rows")
                }
            }
            var dims = x.dims
            dims[dims.count - 1] = .fixed(n)
            return ValueType(.f32, dims)

        case .attention:
            guard let q = value(0), let k = value(1), let v = value(2), let mask = value(3) else { throw Fault("malformed operands") }
            guard q.dtype == .f32, q.dims.count == 3 else { throw Fault("q has type \(q) but must be f32[B, S, H]") }
            guard k == q else { throw Fault("k has type \(k) but q has type \(q)") }
            guard v == q else { throw Fault("v has type \(v) but q has type \(q)") }
            guard mask.dims.count == 2, mask.dims[0] == q.dims[0], mask.dims[1] == q.dims[1] else {
                throw Fault("mask has type \(mask) but q has type \(q); expected [\(q.dims[0]), \(q.dims[1])]")
            }
            let h = try lastFixed(q, "q")
            let heads = try intAttr(attrs, "heads")
            guard h % heads == 0 else { throw Fault("hidden size \(h) is not divisible by heads = \(heads)") }
            return q

        case .add:
            guard let a = value(0), let b = value(1) else { throw Fault("malformed operands") }
            guard a == b else { throw Fault("operands have different types \(a) and \(b)") }
            return a

        case .gelu, .tanh:
            guard let x = value(0) else { throw Fault("malformed operands") }
            guard x.dtype == .f32 else { throw Fault("input has type \(x) but must be f32") }
            return x

        case .cls:
            guard let x = value(0) else { throw Fault("malformed operands") }
            guard x.dims.count == 3 else { throw Fault("input has type \(x) but must be [B, S, H]") }
            return ValueType(x.dtype, [x.dims[0], x.dims[2]])

        case .output:
            _ = try stringAttr(attrs, "name")
            return nil
        }
    }
}
