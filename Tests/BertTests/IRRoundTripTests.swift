/// Textual IR round trips: print→parse→print is the identity on a module using every op, attribute
/// kind, dtype and storage, and on every golden input; malformed text gives located errors, never a crash.
import XCTest
import BertIR

/// A small module touching every op kind, attribute kind, storage and dtype (not necessarily valid).
func everyFeatureModule() -> Module {
    Module(name: "every-feature_1.0", tensors: [
        TensorDecl(name: "embeddings.word_embeddings.weight", shape: [5, 4]),
        TensorDecl(name: "w.shared", shape: [4, 4], storage: .shared),
        TensorDecl(name: "w.mask", shape: [4, 4], storage: .mask, compute: .masked,
                   attributes: [NamedAttribute("density", .float(0.9))]),
        TensorDecl(name: "w.csr", shape: [4, 4], storage: .csr, compute: .csr),
        TensorDecl(name: "w.delta", shape: [4, 4], storage: .delta, compute: .dense),
        TensorDecl(name: "scalar", dtype: .i64, shape: []),
        TensorDecl(name: "half", dtype: .f16, shape: [2, 0]),
        TensorDecl(name: "bf", dtype: .bf16, shape: [3], attributes: [
            NamedAttribute("density", .float(0.5)),
            NamedAttribute("count", .int(-42)),
            NamedAttribute("note", .string("quote \" back\\slash\nnewline\ttab ünïcode")),
            NamedAttribute("mode", .ident("mean")),
            NamedAttribute("nested", .list([.int(1), .list([.float(1e-12), .string("")]), .list([])])),
            NamedAttribute("big", .float(1e300)),
            NamedAttribute("whole", .float(3.0)),
            NamedAttribute("neg", .float(-0.25)),
            NamedAttribute("inf", .float(-.infinity)),
            NamedAttribute("control", .string("nul\u{0}bell\u{7}del\u{7F}")),
        ]),
    ], ops: [
        Op(result: "input_ids", kind: .input, attributes: [NamedAttribute("name", .string("input_ids"))],
           type: ValueType(.i32, [.batch, .seq])),
        Op(result: "0", kind: .embeddings, operands: [.value("input_ids"), .value("input_ids"),
           .tensor("embeddings.word_embeddings.weight"), .tensor("w.shared"), .tensor("scalar")],
           type: ValueType(.f32, [.batch, .seq, .fixed(4)])),
        Op(result: "1", kind: .layerNorm, operands: [.value("0"), .tensor("bf"), .tensor("bf")],
           attributes: [NamedAttribute("eps", .float(1e-12))], type: ValueType(.f32, [.batch, .seq, .fixed(4)])),
        Op(result: "2", kind: .linear, operands: [.value("1"), .tensor("w.shared")], type: ValueType(.f32, [.fixed(2), .fixed(7), .fixed(4)])),
        Op(result: "3", kind: .attention, operands: [.value("2"), .value("2"), .value("2"), .value("input_ids")],
           attributes: [NamedAttribute("heads", .int(2))], type: ValueType(.f32, [.batch, .seq, .fixed(4)])),
        Op(result: "a-b.c_d", kind: .add, operands: [.value("3"), .value("1")], type: ValueType(.f32, [.batch, .seq, .fixed(4)])),
        Op(result: "5", kind: .gelu, operands: [.value("a-b.c_d")], type: ValueType(.f32, [.batch, .seq, .fixed(4)])),
        Op(result: "6", kind: .tanh, operands: [.value("5")], type: ValueType(.f32, [.batch, .seq, .fixed(4)])),
        Op(result: "7", kind: .cls, operands: [.value("6")], type: ValueType(.f32, [.batch, .fixed(4)])),
        Op(result: nil, kind: .output, operands: [.value("7")], attributes: [NamedAttribute("name", .string("pooled"))]),
        Op(result: nil, kind: .output, operands: [.value("6")], attributes: [NamedAttribute("name", .string("last_hidden_state"))]),
    ])
}

final class IRRoundTripTests: XCTestCase {
    func testPrintParsePrintIdentity() throws {
        let m = everyFeatureModule()
        let text = IRPrinter.print(m)
        let parsed = try IRParser.parse(text)
        XCTAssertEqual(parsed, m)
        XCTAssertEqual(IRPrinter.print(parsed), text)
        // Every op kind and storage is covered.
        XCTAssertEqual(Set(m.ops.map(\.kind)), Set(OpKind.allCases))
        XCTAssertEqual(Set(m.tensors.map(\.storage)), Set(Storage.allCases))
        XCTAssertEqual(Set(m.tensors.map(\.compute)), Set(ComputeFormat.allCases))
    }

    func testCanonicalText() throws {
        // Expected text written by hand from the grammar.
        let m = Module(name: "tiny-encoder", tensors: [
            TensorDecl(name: "embeddings.LayerNorm.weight", shape: [32]),
            TensorDecl(name: "q.weight", shape: [32, 32], storage: .shared),
        ], ops: [
            Op(result: "input_ids", kind: .input, attributes: [NamedAttribute("name", .string("input_ids"))],
               type: ValueType(.i32, [.batch, .seq])),
            Op(result: "1", kind: .layerNorm, operands: [.value("0"), .tensor("a"), .tensor("b")],
               attributes: [NamedAttribute("eps", .float(1e-12))], type: ValueType(.f32, [.batch, .seq, .fixed(32)])),
            Op(result: nil, kind: .output, operands: [.value("13")], attributes: [NamedAttribute("name", .string("last_hidden_state"))]),
        ])
        let expected = """
        module @tiny-encoder {
          tensor @embeddings.LayerNorm.weight : f32[32] {storage = dense, compute = dense}
          tensor @q.weight : f32[32, 32] {storage = shared, compute = dense}
          %input_ids = input {name = "input_ids"} : i32[B, S]
          %1 = layer_norm %0, @a, @b {eps = 1e-12} : f32[B, S, 32]
          output %13 {name = "last_hidden_state"}
        }

        """
        XCTAssertEqual(IRPrinter.print(m), expected)
        XCTAssertEqual(try IRParser.parse(expected), m)
    }

    func testFloatsStayFloats() throws {
        for v in [0.5, 1.0, 1e-12, 1e16, -3.0, 0.1, 123456789.0, Double.leastNonzeroMagnitude] {
            let m = Module(name: "f", tensors: [TensorDecl(name: "t", shape: [1], attributes: [NamedAttribute("x", .float(v))])])
            let back = try IRParser.parse(IRPrinter.print(m))
            XCTAssertEqual(back.tensors.first?.attributes.first?.value, .float(v), "\(v)")
        }
        XCTAssertTrue(IRPrinter.print(Module(name: "f", tensors: [TensorDecl(name: "t", shape: [1],
            attributes: [NamedAttribute("x", .float(1e-12))])])).contains("{storage = dense, compute = dense, x = 1e-12}"))
    }

    func testLiteralsRoundTripBitwise() throws {
        let m = Module(name: "lit", tensors: [TensorDecl(name: "a", shape: [2, 3]), TensorDecl(name: "b", shape: [2])])
        let w = WeightStore()
        let values: [Float] = [0.1, -0.0, 1e-30, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.50000006]
        w["a"] = TensorBuffer(shape: [2, 3], values: values)
        w["b"] = TensorBuffer(shape: [2], values: [.infinity, -.infinity])
        let text = IRPrinter.print(m, options: IRPrintOptions(literals: w))
        let (m2, w2) = try IRParser.parseWithLiterals(text)
        XCTAssertEqual(m2, m)
        XCTAssertTrue(try XCTUnwrap(w2["a"]).bitwiseEqual(try XCTUnwrap(w["a"])))
        XCTAssertTrue(try XCTUnwrap(w2["b"]).bitwiseEqual(try XCTUnwrap(w["b"])))
        XCTAssertEqual(IRPrinter.print(m2, options: IRPrintOptions(literals: w2)), text)
        // parse() accepts literals and drops them.
        XCTAssertEqual(try IRParser.parse(text), m)
    }

    func testAnnotateSizes() {
        let m = Module(name: "s", tensors: [TensorDecl(name: "a", shape: [32, 32]), TensorDecl(name: "b", shape: [3], storage: .shared)])
        let text = IRPrinter.print(m, options: IRPrintOptions(annotateSizes: true))
        XCTAssertTrue(text.contains("tensor @a : f32[32, 32] {storage = dense, compute = dense}  // 4.0 KiB stored\n"), text)
        XCTAssertTrue(text.contains("tensor @b : f32[3] {storage = shared, compute = dense}  // shared with base (12 B)\n"), text)
    }

    func testParseErrorsAreLocated() {
        let cases: [(String, String)] = [
            ("module @m {\n  tensor @a f32[2] {storage = dense, compute = dense}\n}", "line 2:13: expected ':', got 'f32'"),
            ("module @m {\n  %0 = gelu %x : q32[B]\n}", "line 2:18: expected an element type"),
            ("module @m {\n  %0 = \n}", "line 3:1: expected an op name, got '}'"),
            ("module @m {", "line 1:12: expected 'tensor', an op or '}', got end of input"),
            ("module m {}", "line 1:8: expected module name '@name', got 'm'"),
            ("module @m {\n  tensor @a : f32[2] {storage = sparse, compute = dense}\n}", "line 2:22: tensor @a: storage must be one of dense, shared"),
            ("module @m {\n  tensor @a : f32[2] {compute = dense}\n}", "line 2:22: tensor @a: attributes must start with storage and compute"),
            ("module @m {\n  output %x {name = \"unterminated}\n}", "line 2:21: unterminated string"),
            ("module @m {\n  output %x {n = 99999999999999999999}\n}", "line 2:18: integer '99999999999999999999' out of range"),
            ("module @m {\n  tensor @a : f32[99999999999, 99999999999] {storage = dense, compute = dense}\n}", "too many elements"),
            ("module @m {\n  output % {name = \"y\"}\n}", "line 2:10: expected a name after '%'"),
            ("module @m {\n}\nmodule @n {\n}", "line 3:1: expected end of input, got 'module'"),
            ("module @m {\n  output %x {a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n}", "nested too deeply"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try IRParser.parse(text, file: "x.ir")) { err in
                guard let e = err as? BertError else { return XCTFail("not a BertError: \(err)") }
                XCTAssertEqual(e.file, "x.ir")
                XCTAssertTrue(e.message.contains(expected), "got '\(e.message)', expected '\(expected)'")
                XCTAssertTrue(e.message.hasPrefix("line "), e.message)
            }
        }
    }

    func testCommentsAreIgnored() throws {
        let text = """
        // leading comment
        module @m { // trailing
          // a line comment
          tensor @a : f32[2] {storage = dense, compute = dense} // 8 B stored
        }
        """
        let m = try IRParser.parse(text)
        XCTAssertEqual(m, Module(name: "m", tensors: [TensorDecl(name: "a", shape: [2])]))
    }

    func testParseModules() throws {
        let text = IRPrinter.print(Module(name: "base")) + IRPrinter.print(everyFeatureModule())
        let ms = try IRParser.parseModules(text)
        XCTAssertEqual(ms.map(\.0.name), ["base", "every-feature_1.0"])
        XCTAssertEqual(ms[1].0, everyFeatureModule())
    }

    func testEveryGoldenInputRoundTrips() throws {
        var count = 0
        for f in GoldenCase.files() {
            for c in try GoldenCase.load(f) {
                guard let ms = try? IRParser.parseModules(c.text, file: f) else {
                    // Only cases that expect an error may fail to parse.
                    XCTAssertFalse(c.expectedErrors.isEmpty, "\(c.label) does not parse")
                    continue
                }
                for (m, w) in ms {
                    let text = IRPrinter.print(m, options: IRPrintOptions(literals: w))
                    let (m2, w2) = try IRParser.parseWithLiterals(text, file: c.label)
                    XCTAssertEqual(m2, m, c.label)
                    XCTAssertEqual(w2.names, w.names, c.label)
                    for n in w.names { XCTAssertTrue(w2[n]!.bitwiseEqual(w[n]!), "\(c.label) @\(n)") }
                    XCTAssertEqual(IRPrinter.print(m2, options: IRPrintOptions(literals: w2)), text, c.label)
                    count += 1
                }
            }
        }
        XCTAssertGreaterThan(count, 10)
    }

    /// Random mutations of a printed module must parse or fail with a located BertError, never crash;
    /// whatever parses must also survive the verifier and the printer.
    func testFuzzedTextNeverCrashes() {
        let m = everyFeatureModule()
        let w = WeightStore()
        w["embeddings.word_embeddings.weight"] = TensorBuffer(shape: [5, 4], values: (0..<20).map { Float($0) * 0.25 })
        let seed = Array(IRPrinter.print(m, options: IRPrintOptions(literals: w)))
        let alphabet = Array("{}[]<>,:=@%\"\\/-+.0123456789eEx \nabfinSB_")
        var rng = SplitMix(state: 0x5EED)
        var parsed = 0, failed = 0
        for _ in 0..<3000 {
            var text = seed
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                guard !text.isEmpty else { break }
                let i = Int(rng.next() % UInt64(text.count))
                switch rng.next() % 5 {
                case 0: text.remove(at: i)
                case 1: text.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                case 2: text[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 3: text.removeSubrange(i..<min(text.count, i + Int(rng.next() % 40)))
                default:
                    let j = Int(rng.next() % UInt64(text.count))
                    text.insert(contentsOf: text[min(i, j)..<max(i, j)].prefix(60), at: i)
                }
            }
            do {
                let (pm, pw) = try IRParser.parseWithLiterals(String(text), file: "fuzz.ir")
                parsed += 1
                _ = try? Verifier.verify(pm, weights: pw)
                _ = IRPrinter.print(pm, options: IRPrintOptions(annotateSizes: true, literals: pw))
            } catch let e as BertError {
                failed += 1
                XCTAssertTrue(e.message.hasPrefix("line "), e.message)
            } catch {
                XCTFail("unexpected error type \(error)")
            }
        }
        XCTAssertGreaterThan(failed, 100)
        XCTAssertGreaterThan(parsed, 0)
    }
}

/// A small deterministic random generator for fuzzing.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
