/// Checks that a module is well formed: unique names, defined operands, the operand signature and
/// attributes of every op, shape inference against each op's declared type, unique outputs and,
/// when weights are given, data of the declared shape for every dense tensor.
/// Errors are `BertError(file, "<node>: <fault>")`, e.g. `%5 = linear: weight @w has shape ...`.
public enum Verifier {
    public static func verify(_ m: Module, weights: WeightStore? = nil, file: String = "<ir>") throws {
        func fail(_ msg: String) -> BertError { BertError(file, msg) }
        guard IRLexer.isValidName(m.name) else { throw fail("module name '\(m.name)' is not a valid identifier") }

        // Tensor declarations.
        var decls: [String: TensorDecl] = [:]
        for t in m.tensors {
            let node = "tensor @\(t.name)"
            guard IRLexer.isValidName(t.name) else { throw fail("tensor name '\(t.name)' is not a valid identifier") }
            guard decls[t.name] == nil else { throw fail("\(node): duplicate tensor name") }
            guard IRPrinter.safeElementCount(t.shape) != nil,
                  IRPrinter.safeElementCount(t.shape).map({ !$0.multipliedReportingOverflow(by: 8).overflow }) == true else {
                throw fail("\(node): shape \(ShapeRules.shape(t.shape)) is negative or too large")
            }
            for a in t.attributes where a.name == "storage" || a.name == "compute" {
                throw fail("\(node): attribute '\(a.name)' given twice")
            }
            if let w = weights, t.storage == .dense {
                guard let data = w[t.name] else { throw fail("\(node): storage is dense but there is no data for it") }
                guard data.shape == t.shape else {
                    throw fail("\(node): declared shape \(ShapeRules.shape(t.shape)) but data has shape \(ShapeRules.shape(data.shape))")
                }
            }
            decls[t.name] = t
        }

        // Ops in order.
        let allResults = Set(m.ops.compactMap(\.result))
        var values: [String: ValueType] = [:]
        var outputNames = Set<String>()
        for (index, op) in m.ops.enumerated() {
            let node: String
            if op.kind == .output {
                node = "output" + (op.operands.first.map { " \($0)" } ?? "")
            } else if let r = op.result {
                node = "%\(r) = \(op.kind.rawValue)"
            } else {
                node = "\(op.kind.rawValue) (op #\(index))"
            }
            func nodeFail(_ msg: String) -> BertError { fail("\(node): \(msg)") }

            if op.kind == .output {
                if let r = op.result { throw nodeFail("output must not define a result, got %\(r)") }
                if let t = op.type { throw nodeFail("output must not have a type, got \(t)") }
            } else {
                guard let r = op.result else { throw nodeFail("op must define a result") }
                guard IRLexer.isValidName(r) else { throw nodeFail("result name '\(r)' is not a valid identifier") }
                guard values[r] == nil else { throw nodeFail("value %\(r) is defined twice") }
                guard op.type != nil else { throw nodeFail("missing result type") }
            }

            // Operand count and kinds.
            let sig = ShapeRules.signature(op.kind)
            let required = sig.filter { if case .optionalTensor = $0 { return false }; return true }.count
            guard op.operands.count >= required && op.operands.count <= sig.count else {
                let want = required == sig.count ? "\(sig.count)" : "\(required) or \(sig.count)"
                let list = sig.isEmpty ? "" : " (\(sig.map(\.label).joined(separator: ", ")))"
                throw nodeFail("expects \(want) operand\(sig.count == 1 ? "" : "s")\(list), got \(op.operands.count)")
            }
            var resolved: [ResolvedOperand] = []
            for (i, (operand, slot)) in zip(op.operands, sig).enumerated() {
                switch (operand, slot) {
                case (.value(let v), .value):
                    guard let t = values[v] else {
                        if allResults.contains(v) { throw nodeFail("operand %\(v) is used before it is defined") }
                        throw nodeFail("operand %\(v) is not defined")
                    }
                    resolved.append(.value(v, t))
                case (.tensor(let name), .tensor), (.tensor(let name), .optionalTensor):
                    guard let d = decls[name] else { throw nodeFail("tensor @\(name) is not declared") }
                    resolved.append(.tensor(d))
                case (.tensor, .value):
                    throw nodeFail("operand \(i + 1) must be a value \(slot.label), got \(operand)")
                case (.value, _):
                    throw nodeFail("operand \(i + 1) must be a tensor \(slot.label), got \(operand)")
                }
            }

            // Shape inference and attributes.
            let inferred: ValueType?
            do {
                inferred = try ShapeRules.infer(op.kind, resolved, op.attributes)
            } catch let f as ShapeRules.Fault {
                throw nodeFail(f.message)
            }
            if let inferred, let declared = op.type {
                guard inferred == declared else { throw nodeFail("declared type \(declared) but inferred \(inferred)") }
            }
            if op.kind == .output, let name = op.attributes[attr: "name"]?.stringValue {
                guard outputNames.insert(name).inserted else { throw nodeFail("duplicate output name \"\(name)\"") }
            }
            if let r = op.result, let t = op.type { values[r] = t }
        }
    }
}
