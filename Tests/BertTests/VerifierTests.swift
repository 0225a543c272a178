/// Verifier checks on hand-built modules: a valid one-layer encoder passes, and each kind of fault is
/// rejected with a message naming the node.
import XCTest
import BertIR

/// A valid one-layer encoder with hidden `h`, 2 heads, intermediate `i`, plus matching weights.
func oneLayerModule(h: Int = 4, i: Int = 6) -> (Module, WeightStore) {
    var tensors: [TensorDecl] = [
        TensorDecl(name: "word", shape: [10, h]), TensorDecl(name: "pos", shape: [8, h]), TensorDecl(name: "type", shape: [2, h]),
        TensorDecl(name: "ln0.g", shape: [h]), TensorDecl(name: "ln0.b", shape: [h]),
    ]
    for n in ["q", "k", "v", "o"] { tensors += [TensorDecl(name: n + ".w", shape: [h, h]), TensorDecl(name: n + ".b", shape: [h])] }
    tensors += [TensorDecl(name: "ln1.g", shape: [h]), TensorDecl(name: "ln1.b", shape: [h]),
                TensorDecl(name: "up.w", shape: [i, h]), TensorDecl(name: "up.b", shape: [i]),
                TensorDecl(name: "down.w", shape: [h, i]), TensorDecl(name: "down.b", shape: [h]),
                TensorDecl(name: "ln2.g", shape: [h]), TensorDecl(name: "ln2.b", shape: [h]),
                TensorDecl(name: "pool.w", shape: [h, h]), TensorDecl(name: "pool.b", shape: [h])]
    let bsh = ValueType(.f32, [.batch, .seq, .fixed(h)])
    let ids = ValueType(.i32, [.batch, .seq])
    func lin(_ r: String, _ x: String, _ w: String, _ t: ValueType = bsh) -> Op {
        Op(result: r, kind: .linear, operands: [.value(x), .tensor(w + ".w"), .tensor(w + ".b")], type: t)
    }
    func ln(_ r: String, _ x: String, _ p: String) -> Op {
        Op(result: r, kind: .layerNorm, operands: [.value(x), .tensor(p + ".g"), .tensor(p + ".b")],
           attributes: [NamedAttribute("eps", .float(1e-12))], type: bsh)
    }
    let ops: [Op] = [
        Op(result: "input_ids", kind: .input, attributes: [NamedAttribute("name", .string("input_ids"))], type: ids),
        Op(result: "token_type_ids", kind: .input, attributes: [NamedAttribute("name", .string("token_type_ids"))], type: ids),
        Op(result: "attention_mask", kind: .input, attributes: [NamedAttribute("name", .string("attention_mask"))], type: ids),
        Op(result: "0", kind: .embeddings, operands: [.value("input_ids"), .value("token_type_ids"), .tensor("word"), .tensor("pos"), .tensor("type")], type: bsh),
        ln("1", "0", "ln0"),
        lin("2", "1", "q"), lin("3", "1", "k"), lin("4", "1", "v"),
        Op(result: "5", kind: .attention, operands: [.value("2"), .value("3"), .value("4"), .value("attention_mask")],
           attributes: [NamedAttribute("heads", .int(2))], type: bsh),
        lin("6", "5", "o"),
        Op(result: "7", kind: .add, operands: [.value("6"), .value("1")], type: bsh),
        ln("8", "7", "ln1"),
        lin("9", "8", "up", ValueType(.f32, [.batch, .seq, .fixed(i)])),
        Op(result: "10", kind: .gelu, operands: [.value("9")], type: ValueType(.f32, [.batch, .seq, .fixed(i)])),
        lin("11", "10", "down"),
        Op(result: "12", kind: .add, operands: [.value("11"), .value("8")], type: bsh),
        ln("13", "12", "ln2"),
        Op(result: "14", kind: .cls, operands: [.value("13")], type: ValueType(.f32, [.batch, .fixed(h)])),
        lin("15", "14", "pool", ValueType(.f32, [.batch, .fixed(h)])),
        Op(result: "16", kind: .tanh, operands: [.value("15")], type: ValueType(.f32, [.batch, .fixed(h)])),
        Op(result: nil, kind: .output, operands: [.value("13")], attributes: [NamedAttribute("name", .string("last_hidden_state"))]),
        Op(result: nil, kind: .output, operands: [.value("16")], attributes: [NamedAttribute("name", .string("pooler_output"))]),
    ]
    let w = WeightStore()
    for t in tensors { w[t.name] = TensorBuffer(shape: t.shape, values: (0..<t.shape.reduce(1, *)).map { Float($0 % 7) * 0.1 }) }
    return (Module(name: "one-layer", tensors: tensors, ops: ops), w)
}

final class VerifierTests: XCTestCase {
    /// Asserts that verifying `m` fails with exactly `message` (file "<ir>").
    func assertRejects(_ m: Module, weights: WeightStore? = nil, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Verifier.verify(m, weights: weights), file: file, line: line) { err in
            XCTAssertEqual(err as? BertError, BertError("<ir>", message), file: file, line: line)
        }
    }

    func index(_ m: Module, _ result: String) -> Int { m.ops.firstIndex { $0.result == result }! }

    func testValidModulePasses() throws {
        let (m, w) = oneLayerModule()
        XCTAssertNoThrow(try Verifier.verify(m))
        XCTAssertNoThrow(try Verifier.verify(m, weights: w))
        // Through the text form too.
        XCTAssertNoThrow(try Verifier.verify(try IRParser.parse(IRPrinter.print(m))))
        // Bias is optional on linear.
        var m2 = m
        m2.ops[index(m2, "2")].operands.removeLast()
        XCTAssertNoThrow(try Verifier.verify(m2))
    }

    func testLinearShapeMismatchNamesNode() {
        let (m0, _) = oneLayerModule()
        var m = m0
        m.tensors[m.tensorIndex(named: "up.w")!].shape = [6, 5]
        assertRejects(m, "%9 = linear: weight @up.w has shape [6, 5] but input has last dim 4")
        m = m0
        m.tensors[m.tensorIndex(named: "up.b")!].shape = [5]
        assertRejects(m, "%9 = linear: bias @up.b has shape [5] but weight @up.w has 6 rows")
    }

    func testDeclaredTypeMustEqualInferred() {
        var (m, _) = oneLayerModule()
        m.ops[index(m, "9")].type = ValueType(.f32, [.batch, .seq, .fixed(7)])
        assertRejects(m, "%9 = linear: declared type f32[B, S, 7] but inferred f32[B, S, 6]")
        (m, _) = oneLayerModule()
        m.ops[index(m, "14")].type = ValueType(.f32, [.batch, .seq, .fixed(4)])
        assertRejects(m, "%14 = cls: declared type f32[B, S, 4] but inferred f32[B, 4]")
        (m, _) = oneLayerModule()
        m.ops[index(m, "input_ids")].type = ValueType(.i64, [.batch, .seq])
        assertRejects(m, "%input_ids = input: declared type i64[B, S] but inferred i32[B, S]")
        (m, _) = oneLayerModule()
        m.ops[index(m, "3")].type = nil
        assertRejects(m, "%3 = linear: missing result type")
    }

    func testDanglingAndUndeclared() {
        var (m, _) = oneLayerModule()
        m.ops[index(m, "7")].operands[1] = .value("nope")
        assertRejects(m, "%7 = add: operand %nope is not defined")
        (m, _) = oneLayerModule()
        m.ops[index(m, "7")].operands[1] = .value("8")
        assertRejects(m, "%7 = add: operand %8 is used before it is defined")
        (m, _) = oneLayerModule()
        m.ops[index(m, "1")].operands[2] = .tensor("missing.bias")
        assertRejects(m, "%1 = layer_norm: tensor @missing.bias is not declared")
    }

    func testDuplicateNames() {
        var (m, _) = oneLayerModule()
        m.tensors.append(TensorDecl(name: "q.w", shape: [1]))
        assertRejects(m, "tensor @q.w: duplicate tensor name")
        (m, _) = oneLayerModule()
        m.ops[index(m, "4")].result = "3"
        assertRejects(m, "%3 = linear: value %3 is defined twice")
        (m, _) = oneLayerModule()
        m.ops[m.ops.count - 1].attributes = [NamedAttribute("name", .string("last_hidden_state"))]
        assertRejects(m, "output %16: duplicate output name \"last_hidden_state\"")
    }

    func testOperandCountsAndKinds() {
        var (m, _) = oneLayerModule()
        m.ops[index(m, "5")].operands.removeLast()
        assertRejects(m, "%5 = attention: expects 4 operands (%q, %k, %v, %mask), got 3")
        (m, _) = oneLayerModule()
        m.ops[index(m, "2")].operands.append(.tensor("q.b"))
        assertRejects(m, "%2 = linear: expects 2 or 3 operands (%x, @weight, @bias?), got 4")
        (m, _) = oneLayerModule()
        m.ops[index(m, "2")].operands[1] = .value("1")
        assertRejects(m, "%2 = linear: operand 2 must be a tensor @weight, got %1")
        (m, _) = oneLayerModule()
        m.ops[index(m, "10")].operands = [.tensor("up.b")]
        assertRejects(m, "%10 = gelu: operand 1 must be a value %x, got @up.b")
        (m, _) = oneLayerModule()
        m.ops[index(m, "input_ids")].operands = [.value("x")]
        assertRejects(m, "%input_ids = input: expects 0 operands, got 1")
    }

    func testAttributes() {
        var (m, _) = oneLayerModule()
        m.ops[index(m, "1")].attributes = [NamedAttribute("eps", .float(0))]
        assertRejects(m, "%1 = layer_norm: attribute 'eps' must be a finite float > 0, got 0.0")
        m.ops[index(m, "1")].attributes = [NamedAttribute("eps", .string("1e-12"))]
        assertRejects(m, "%1 = layer_norm: attribute 'eps' must be a float")
        (m, _) = oneLayerModule()
        m.ops[index(m, "5")].attributes = [NamedAttribute("heads", .int(0))]
        assertRejects(m, "%5 = attention: attribute 'heads' must be > 0, got 0")
        m.ops[index(m, "5")].attributes = [NamedAttribute("heads", .int(3))]
        assertRejects(m, "%5 = attention: hidden size 4 is not divisible by heads = 3")
        m.ops[index(m, "5")].attributes = []
        assertRejects(m, "%5 = attention: missing attribute 'heads'")
        (m, _) = oneLayerModule()
        m.ops[m.ops.count - 1].attributes = [NamedAttribute("name", .int(1))]
        assertRejects(m, "output %16: attribute 'name' must be a string")
    }

    func testTypeRules() {
        var (m, _) = oneLayerModule()
        m.tensors[m.tensorIndex(named: "ln1.g")!].shape = [5]
        assertRejects(m, "%8 = layer_norm: gamma @ln1.g has shape [5] but input has last dim 4")
        (m, _) = oneLayerModule()
        m.ops[index(m, "12")].operands[1] = .value("10")
        assertRejects(m, "%12 = add: operands have different types f32[B, S, 4] and f32[B, S, 6]")
        (m, _) = oneLayerModule()
        m.ops[index(m, "5")].operands[2] = .value("input_ids")
        assertRejects(m, "%5 = attention: v has type i32[B, S] but q has type f32[B, S, 4]")
        (m, _) = oneLayerModule()
        m.tensors[m.tensorIndex(named: "type")!].shape = [2, 5]
        assertRejects(m, "%0 = embeddings: token type table @type has shape [2, 5] but word table @word has hidden size 4")
        (m, _) = oneLayerModule()
        m.tensors[m.tensorIndex(named: "word")!].dtype = .i32
        assertRejects(m, "%0 = embeddings: word table @word has dtype i32, expected f32")
    }

    func testWeightsMustMatch() {
        let (m, w) = oneLayerModule()
        w["up.b"] = TensorBuffer(shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
        assertRejects(m, weights: w, "tensor @up.b: declared shape [6] but data has shape [3, 2]")
        let (m2, w2) = oneLayerModule()
        let w3 = WeightStore()
        for n in w2.names where n != "q.w" { w3[n] = w2[n] }
        assertRejects(m2, weights: w3, "tensor @q.w: storage is dense but there is no data for it")
        // A shared tensor needs no data.
        var m3 = m2
        m3.tensors[m3.tensorIndex(named: "q.w")!].storage = .shared
        XCTAssertNoThrow(try Verifier.verify(m3, weights: w3))
    }

    func testOutputShape() {
        var (m, _) = oneLayerModule()
        m.ops[m.ops.count - 1].result = "17"
        assertRejects(m, "output %16: output must not define a result, got %17")
        (m, _) = oneLayerModule()
        m.ops[index(m, "3")].result = nil
        assertRejects(m, "linear (op #6): op must define a result")
        XCTAssertThrowsError(try Verifier.verify(Module(name: "bad name"))) { err in
            XCTAssertEqual(err as? BertError, BertError("<ir>", "module name 'bad name' is not a valid identifier"))
        }
    }

    func testHugeShapeDoesNotTrap() {
        let m = Module(name: "m", tensors: [TensorDecl(name: "t", shape: [Int.max, 4])])
        XCTAssertThrowsError(try Verifier.verify(m))
        XCTAssertThrowsError(try Verifier.verify(Module(name: "m", tensors: [TensorDecl(name: "t", shape: [-1])])))
    }
}
