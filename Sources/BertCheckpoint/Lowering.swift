/// Lowering a checkpoint to IR: match the checkpoint's tensors to the canonical BERT names and
/// shapes from the config, then emit the fixed op sequence of the encoder (inputs, embeddings,
/// per-layer attention and feed-forward blocks, optional pooler and classifier, outputs).
import BertIR

public enum Lowering {
    /// Checks `raw` against `config` and builds the module and its weight store.
    /// `weightsPath` names the weight file in errors.
    public static func lower(config c: BertConfig, tensors raw: RawTensors, name: String,
                             weightsPath: String) throws -> (Module, WeightStore) {
        // Canonical names; two checkpoint names mapping to one canonical name is an error.
        var byName: [String: TensorBuffer] = [:]
        for key in raw.tensors.keys.sorted() {
            let canon = TensorNames.canonical(key)
            if TensorNames.ignoredBuffers.contains(canon) { continue }
            if byName[canon] != nil {
                throw BertError(weightsPath, "tensor '\(key)' duplicates '\(canon)'")
            }
            byName[canon] = raw.tensors[key]
        }
        var skipped: [String: String] = [:]
        for (k, v) in raw.skipped { skipped[TensorNames.canonical(k)] = v }

        let hasPoolerW = byName[TensorNames.poolerWeight] != nil
        let hasPoolerB = byName[TensorNames.poolerBias] != nil
        if hasPoolerW != hasPoolerB {
            throw BertError(weightsPath, "missing tensor '\(hasPoolerW ? TensorNames.poolerBias : TensorNames.poolerWeight)'")
        }
        let pooler = hasPoolerW
        let classifier = c.isClassifier
        if classifier && !pooler {
            throw BertError(weightsPath, "missing tensor '\(TensorNames.poolerWeight)' (the classifier reads the pooler output)")
        }
        let expected = TensorNames.expected(c, pooler: pooler, classifier: classifier)

        // Unknown float tensors: refuse, naming them.
        let known = Set(expected.map(\.name))
        let unknown = byName.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            let shown = unknown.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            let more = unknown.count > 3 ? " and \(unknown.count - 3) more" : ""
            throw BertError(weightsPath, "unexpected tensor\(unknown.count > 1 ? "s" : "") \(shown)\(more) for \(c.architecture)")
        }

        let store = WeightStore()
        var decls: [TensorDecl] = []
        decls.reserveCapacity(expected.count)
        for (tname, shape) in expected {
            guard let buf = byName[tname] else {
                if let dt = skipped[tname] {
                    throw BertError(weightsPath, "tensor '\(tname)' has unsupported dtype \(dt)")
                }
                throw BertError(weightsPath, "missing tensor '\(tname)'")
            }
            guard buf.shape == shape else {
                throw BertError(weightsPath, "tensor '\(tname)' has shape \(buf.shape), expected \(shape) from config")
            }
            store[tname] = buf
            decls.append(TensorDecl(name: tname, dtype: .f32, shape: shape))
        }
        let module = Module(name: name, tensors: decls, ops: ops(c, pooler: pooler, classifier: classifier))
        return (module, store)
    }

    /// The op sequence of the encoder graph.
    public static func ops(_ c: BertConfig, pooler: Bool, classifier: Bool) -> [Op] {
        var ops: [Op] = []
        var next = 0
        func fresh() -> String { defer { next += 1 }; return String(next) }
        let bsh = ValueType(.f32, [.batch, .seq, .fixed(c.hiddenSize)])
        let bsi = ValueType(.f32, [.batch, .seq, .fixed(c.intermediateSize)])
        let bh = ValueType(.f32, [.batch, .fixed(c.hiddenSize)])
        let eps = NamedAttribute("eps", .float(c.layerNormEps))

        for input in ["input_ids", "token_type_ids", "attention_mask"] {
            ops.append(Op(result: input, kind: .input, attributes: [NamedAttribute("name", .string(input))],
                          type: ValueType(.i32, [.batch, .seq])))
        }
        @discardableResult
        func emit(_ kind: OpKind, _ operands: [Operand], _ attrs: [NamedAttribute] = [], _ type: ValueType) -> String {
            let r = fresh()
            ops.append(Op(result: r, kind: kind, operands: operands, attributes: attrs, type: type))
            return r
        }
        func linear(_ x: String, _ prefix: String, _ type: ValueType) -> String {
            emit(.linear, [.value(x), .tensor(prefix + ".weight"), .tensor(prefix + ".bias")], [], type)
        }
        func norm(_ x: String, _ prefix: String) -> String {
            emit(.layerNorm, [.value(x), .tensor(prefix + ".weight"), .tensor(prefix + ".bias")], [eps], bsh)
        }

        let e = emit(.embeddings, [.value("input_ids"), .value("token_type_ids"),
                                   .tensor(TensorNames.wordEmbeddings), .tensor(TensorNames.positionEmbeddings),
                                   .tensor(TensorNames.tokenTypeEmbeddings)], [], bsh)
        var h = norm(e, "embeddings.LayerNorm")
        for l in 0..<c.numHiddenLayers {
            let p = "encoder.layer.\(l)."
            let q = linear(h, p + "attention.self.query", bsh)
            let k = linear(h, p + "attention.self.key", bsh)
            let v = linear(h, p + "attention.self.value", bsh)
            let a = emit(.attention, [.value(q), .value(k), .value(v), .value("attention_mask")],
                         [NamedAttribute("heads", .int(c.numAttentionHeads))], bsh)
            let o = linear(a, p + "attention.output.dense", bsh)
            let r = emit(.add, [.value(o), .value(h)], [], bsh)
            let n = norm(r, p + "attention.output.LayerNorm")
            let f = linear(n, p + "intermediate.dense", bsi)
            let g = emit(.gelu, [.value(f)], [], bsi)
            let d = linear(g, p + "output.dense", bsh)
            let r2 = emit(.add, [.value(d), .value(n)], [], bsh)
            h = norm(r2, p + "output.LayerNorm")
        }
        ops.append(Op(result: nil, kind: .output, operands: [.value(h)],
                      attributes: [NamedAttribute("name", .string("last_hidden_state"))]))
        if pooler {
            let cl = emit(.cls, [.value(h)], [], bh)
            let p = linear(cl, "pooler.dense", bh)
            let t = emit(.tanh, [.value(p)], [], bh)
            ops.append(Op(result: nil, kind: .output, operands: [.value(t)],
                          attributes: [NamedAttribute("name", .string("pooler_output"))]))
            if classifier {
                let l = linear(t, "classifier", ValueType(.f32, [.batch, .fixed(c.numLabels)]))
                ops.append(Op(result: nil, kind: .output, operands: [.value(l)],
                              attributes: [NamedAttribute("name", .string("logits"))]))
            }
        }
        return ops
    }
}
