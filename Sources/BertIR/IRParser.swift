/// Reads the textual IR (the form `IRPrinter` writes) back into `Module`s, optionally with
/// `= dense<[...]>` literal weight data. Every malformed input becomes a
/// `BertError(file, "line L:C: expected ..., got ...")`; the parser never traps.
///
/// Grammar (newlines are not significant; `//` comments run to the end of the line):
///
///     module    ::= 'module' @name '{' (tensor | layer | op)* '}'
///     tensor    ::= 'tensor' @name ':' dtype '[' (int (',' int)*)? ']'
///                   '{' 'storage' '=' ident ',' 'compute' '=' ident (',' attr)* '}'
///                   ('=' 'dense' '<' '[' (float (',' float)*)? ']' '>')?
///     layer     ::= 'layer' @name '{' 'storage' '=' 'shared' ',' 'tensors' '=' int '}'
///                   '=' '[' entry (',' entry)* ']'
///     entry     ::= @suffix ':' dtype '[' (int (',' int)*)? ']' ('{' 'compute' '=' ident (',' attr)* '}')?
///     op        ::= (%name '=')? opkind (operand (',' operand)*)? ('{' attr (',' attr)* '}')? (':' type)?
///     operand   ::= %name | @name
///     type      ::= dtype '[' (dim (',' dim)*)? ']'        dim ::= int | ident
///     attr      ::= ident '=' value
///     value     ::= int | float | "string" | ident | '[' (value (',' value)*)? ']'
///
/// A `layer` line (see `IRPrinter`) declares the tensors `@name.suffix` of one fully shared encoder layer
/// (`@encoder.layer.<i>`), each `storage = shared` (compute `dense` unless given), in order; `tensors`
/// must equal the number of entries, and no other tensor of that layer may be declared in the module.
///
/// Names after `@`/`%` are [A-Za-z0-9_.-]+. A float has a '.' or an exponent, or is `0x` + 16 hex
/// digits of its bits (non-finite values); dense literal elements may also be `inf`, `-inf`, `nan`.
public enum IRParser {
    /// Parses one module; literal data, if any, is checked and dropped.
    public static func parse(_ text: String, file: String = "<input>") throws -> Module {
        try parseWithLiterals(text, file: file).0
    }

    /// Parses one module and the literal data given after its tensor declarations.
    public static func parseWithLiterals(_ text: String, file: String = "<input>") throws -> (Module, WeightStore) {
        var p = try Parser(text, file: file)
        let r = try p.parseModule()
        try p.expectEOF()
        return r
    }

    /// Parses one or more modules following each other in one text (e.g. a base next to its input).
    public static func parseModules(_ text: String, file: String = "<input>") throws -> [(Module, WeightStore)] {
        var p = try Parser(text, file: file)
        var out: [(Module, WeightStore)] = []
        repeat { out.append(try p.parseModule()) } while !p.atEOF
        return out
    }
}

/// Recursive-descent parser over `IRToken`s.
private struct Parser {
    let toks: [IRToken]
    let file: String
    var i = 0
    static let maxListDepth = 32

    init(_ text: String, file: String) throws {
        var lx = IRLexer(text, file: file)
        toks = try lx.tokenize()
        self.file = file
    }

    var cur: IRToken { toks[min(i, toks.count - 1)] }
    var atEOF: Bool { cur.kind == .eof }
    mutating func advance() { if i < toks.count - 1 { i += 1 } }

    func fail(_ what: String, at t: IRToken? = nil) -> BertError {
        let t = t ?? cur
        return BertError(file, "line \(t.line):\(t.column): expected \(what), got \(t.kind.display)")
    }
    func failMsg(_ msg: String, at t: IRToken) -> BertError {
        BertError(file, "line \(t.line):\(t.column): \(msg)")
    }

    func isPunct(_ c: Character) -> Bool { if case .punct(c) = cur.kind { return true }; return false }
    mutating func expectPunct(_ c: Character) throws {
        guard isPunct(c) else { throw fail("'\(c)'") }
        advance()
    }
    mutating func expectKeyword(_ k: String) throws {
        guard case .ident(k) = cur.kind else { throw fail("'\(k)'") }
        advance()
    }
    mutating func expectAt(_ what: String) throws -> String {
        guard case .at(let s) = cur.kind else { throw fail(what) }
        advance(); return s
    }
    mutating func expectIdent(_ what: String) throws -> String {
        guard case .ident(let s) = cur.kind else { throw fail(what) }
        advance(); return s
    }
    mutating func expectEOF() throws {
        guard atEOF else { throw fail("end of input") }
    }

    mutating func parseModule() throws -> (Module, WeightStore) {
        try expectKeyword("module")
        let name = try expectAt("module name '@name'")
        try expectPunct("{")
        var m = Module(name: name)
        let store = WeightStore()
        var layerLines: [String: IRToken] = [:]
        var fromLayerLines = Set<Int>()
        while !isPunct("}") {
            switch cur.kind {
            case .ident("tensor"):
                let (decl, data) = try parseTensor()
                if let data { store[decl.name] = data }
                m.tensors.append(decl)
            case .ident("layer"):
                let tok = cur
                let (layer, decls) = try parseLayer()
                guard layerLines[layer] == nil else { throw failMsg("layer @\(layer) is declared twice", at: tok) }
                layerLines[layer] = tok
                fromLayerLines.formUnion(m.tensors.count..<(m.tensors.count + decls.count))
                m.tensors += decls
            case .percent, .ident:
                m.ops.append(try parseOp())
            default:
                throw fail("'tensor', an op or '}'")
            }
        }
        // A layer line stands for the whole layer: another tensor of that layer would not print back the same.
        for (i, t) in m.tensors.enumerated() where !fromLayerLines.contains(i) {
            if let layer = IRPrinter.encoderLayer(of: t.name), let tok = layerLines[layer] {
                throw failMsg("layer @\(layer): tensor @\(t.name) is declared outside the layer line", at: tok)
            }
        }
        advance()
        return (m, store)
    }

    /// `layer @encoder.layer.<i> {storage = shared, tensors = N} = [@suffix : f32[..] {compute = ..}?, ...]`.
    mutating func parseLayer() throws -> (String, [TensorDecl]) {
        advance() // layer
        let nameTok = cur
        let layer = try expectAt("layer name '@encoder.layer.<i>'")
        guard IRPrinter.encoderLayer(of: layer + ".x") == layer else {
            throw failMsg("layer @\(layer): a layer name must be encoder.layer.<index>", at: nameTok)
        }
        let attrsTok = cur
        let attrs = try parseAttrDict()
        guard attrs.count == 2, attrs[0].name == "storage", attrs[1].name == "tensors" else {
            throw failMsg("layer @\(layer): attributes must be storage and tensors", at: attrsTok)
        }
        guard attrs[0].value == .ident(Storage.shared.rawValue) else {
            throw failMsg("layer @\(layer): storage must be shared", at: attrsTok)
        }
        guard case .int(let declared) = attrs[1].value, declared > 0 else {
            throw failMsg("layer @\(layer): tensors must be a positive integer", at: attrsTok)
        }
        try expectPunct("=")
        let listTok = cur
        try expectPunct("[")
        var decls: [TensorDecl] = []
        while true {
            let suffix = try expectAt("a tensor name '@suffix'")
            let name = layer + "." + suffix
            try expectPunct(":")
            let dtype = try parseDType()
            let shapeTok = cur
            let shape = try parseShape()
            guard let count = IRPrinter.safeElementCount(shape), count.multipliedReportingOverflow(by: 8).overflow == false else {
                throw failMsg("shape of @\(name) has too many elements", at: shapeTok)
            }
            var compute = ComputeFormat.dense
            var extra: [NamedAttribute] = []
            if isPunct("{") {
                let dictTok = cur
                let d = try parseAttrDict()
                guard let first = d.first, first.name == "compute" else {
                    throw failMsg("tensor @\(name): attributes must start with compute", at: dictTok)
                }
                guard case .ident(let cf) = first.value, let c = ComputeFormat(rawValue: cf) else {
                    throw failMsg("tensor @\(name): compute must be one of \(ComputeFormat.allCases.map(\.rawValue).joined(separator: ", "))", at: dictTok)
                }
                compute = c
                extra = Array(d.dropFirst())
            }
            decls.append(TensorDecl(name: name, dtype: dtype, shape: shape, storage: .shared, compute: compute, attributes: extra))
            guard decls.count <= declared else {
                throw failMsg("layer @\(layer): more than the \(declared) tensors declared", at: listTok)
            }
            if isPunct(",") { advance(); continue }
            break
        }
        try expectPunct("]")
        guard decls.count == declared else {
            throw failMsg("layer @\(layer): declares \(declared) tensors but lists \(decls.count)", at: listTok)
        }
        return (layer, decls)
    }

    mutating func parseShape() throws -> [Int] {
        try expectPunct("[")
        var dims: [Int] = []
        if !isPunct("]") {
            while true {
                guard case .int(let v, _) = cur.kind, v >= 0 else { throw fail("a non-negative integer dimension") }
                dims.append(v); advance()
                if isPunct(",") { advance(); continue }
                break
            }
        }
        try expectPunct("]")
        return dims
    }

    mutating func parseDType() throws -> DType {
        let t = cur
        let s = try expectIdent("an element type (\(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
        guard let d = DType(rawValue: s) else {
            throw fail("an element type (\(DType.allCases.map(\.rawValue).joined(separator: ", ")))", at: t)
        }
        return d
    }

    mutating func parseTensor() throws -> (TensorDecl, TensorBuffer?) {
        advance() // tensor
        let name = try expectAt("tensor name '@name'")
        try expectPunct(":")
        let dtype = try parseDType()
        let shapeTok = cur
        let shape = try parseShape()
        guard let count = IRPrinter.safeElementCount(shape), count.multipliedReportingOverflow(by: 8).overflow == false else {
            throw failMsg("shape of @\(name) has too many elements", at: shapeTok)
        }
        let attrsTok = cur
        let attrs = try parseAttrDict()
        guard attrs.count >= 2, attrs[0].name == "storage", attrs[1].name == "compute" else {
            throw failMsg("tensor @\(name): attributes must start with storage and compute", at: attrsTok)
        }
        guard case .ident(let st) = attrs[0].value, let storage = Storage(rawValue: st) else {
            throw failMsg("tensor @\(name): storage must be one of \(Storage.allCases.map(\.rawValue).joined(separator: ", "))", at: attrsTok)
        }
        guard case .ident(let cf) = attrs[1].value, let compute = ComputeFormat(rawValue: cf) else {
            throw failMsg("tensor @\(name): compute must be one of \(ComputeFormat.allCases.map(\.rawValue).joined(separator: ", "))", at: attrsTok)
        }
        let decl = TensorDecl(name: name, dtype: dtype, shape: shape, storage: storage, compute: compute,
                              attributes: Array(attrs.dropFirst(2)))
        var data: TensorBuffer? = nil
        if isPunct("=") {
            advance()
            let litTok = cur
            try expectKeyword("dense")
            try expectPunct("<")
            try expectPunct("[")
            var values: [Float] = []
            if !isPunct("]") {
                while true {
                    values.append(try parseFloatElement())
                    if isPunct(",") { advance(); continue }
                    break
                }
            }
            try expectPunct("]")
            try expectPunct(">")
            guard dtype == .f32 else {
                throw failMsg("tensor @\(name): literal data is only supported for f32 tensors", at: litTok)
            }
            guard values.count == count else {
                throw failMsg("tensor @\(name): literal has \(values.count) elements but shape [\(shape.map(String.init).joined(separator: ", "))] needs \(count)", at: litTok)
            }
            data = TensorBuffer(shape: shape, values: values)
        }
        return (decl, data)
    }

    mutating func parseFloatElement() throws -> Float {
        switch cur.kind {
        case .int(_, let raw), .float(_, let raw):
            if raw.hasPrefix("0x") || raw.hasPrefix("0X"), case .float(let d, _) = cur.kind {
                advance(); return Float(d)
            }
            guard let f = Float(raw) else { throw fail("a float") }
            advance(); return f
        case .ident("inf"): advance(); return .infinity
        case .ident("nan"): advance(); return .nan
        default: throw fail("a float")
        }
    }

    mutating func parseAttrDict() throws -> [NamedAttribute] {
        try expectPunct("{")
        var out: [NamedAttribute] = []
        if !isPunct("}") {
            while true {
                let n = try expectIdent("an attribute name")
                try expectPunct("=")
                out.append(NamedAttribute(n, try parseAttr(depth: 0)))
                if isPunct(",") { advance(); continue }
                break
            }
        }
        try expectPunct("}")
        return out
    }

    mutating func parseAttr(depth: Int) throws -> Attribute {
        switch cur.kind {
        case .int(let v, _): advance(); return .int(v)
        case .float(let d, _):
            advance(); return .float(d)
        case .string(let s): advance(); return .string(s)
        case .ident(let s): advance(); return .ident(s)
        case .punct("["):
            guard depth < Parser.maxListDepth else { throw failMsg("attribute lists nested too deeply", at: cur) }
            advance()
            var items: [Attribute] = []
            if !isPunct("]") {
                while true {
                    items.append(try parseAttr(depth: depth + 1))
                    if isPunct(",") { advance(); continue }
                    break
                }
            }
            try expectPunct("]")
            return .list(items)
        default:
            throw fail("an attribute value")
        }
    }

    mutating func parseValueType() throws -> ValueType {
        let dtype = try parseDType()
        try expectPunct("[")
        var dims: [Dim] = []
        if !isPunct("]") {
            while true {
                switch cur.kind {
                case .int(let v, _) where v >= 0: dims.append(.fixed(v)); advance()
                case .ident(let s): dims.append(.symbol(s)); advance()
                default: throw fail("a dimension (integer or symbol)")
                }
                if isPunct(",") { advance(); continue }
                break
            }
        }
        try expectPunct("]")
        return ValueType(dtype, dims)
    }

    mutating func parseOp() throws -> Op {
        var result: String? = nil
        if case .percent(let r) = cur.kind {
            result = r
            advance()
            try expectPunct("=")
        }
        let kindTok = cur
        let kindName = try expectIdent("an op name")
        guard let kind = OpKind(rawValue: kindName) else {
            throw failMsg("unknown op '\(kindName)'; expected one of \(OpKind.allCases.map(\.rawValue).joined(separator: ", "))", at: kindTok)
        }
        var operands: [Operand] = []
        func operand(_ k: IRTokenKind) -> Operand? {
            switch k {
            case .percent(let v): return .value(v)
            case .at(let t): return .tensor(t)
            default: return nil
            }
        }
        if let first = operand(cur.kind) {
            operands.append(first); advance()
            while isPunct(",") {
                advance()
                guard let o = operand(cur.kind) else { throw fail("an operand '%value' or '@tensor'") }
                operands.append(o); advance()
            }
        }
        var attrs: [NamedAttribute] = []
        if isPunct("{") { attrs = try parseAttrDict() }
        var type: ValueType? = nil
        if isPunct(":") { advance(); type = try parseValueType() }
        return Op(result: result, kind: kind, operands: operands, attributes: attrs, type: type)
    }
}
