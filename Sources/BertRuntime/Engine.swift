import BertIR
import CBertKernels

/// Executes a verified module on the C kernels. Weights must be resolved: every tensor the graph
/// reads (dense ones from the artifact, shared ones from the base) is present in `weights`.
public final class Engine {
    public let module: Module
    let weights: WeightStore
    /// Linear weights executed other than as plain dense GEMM (csr, masked), by tensor name.
    let linear: [String: LinearWeight]
    let pool: KernelPool
    /// For each op, the values it reads for the last time: freed right after it runs, so a batch
    /// holds only the activations still needed rather than every intermediate.
    let dying: [[String]]
    /// The ops in order, adjacent pairs fused (ExecutionPlan).
    let steps: [Step]
    /// Activation buffers reused across ops and batches (and engines, when shared).
    let recycler: BufferRecycler

    /// `packer` packs dense and masked linear weights once; share one between engines over the same base.
    public init(module: Module, weights: WeightStore, linear: [String: LinearWeight] = [:], threads: Int = 1,
                packer: WeightPacker = WeightPacker(), recycler: BufferRecycler = BufferRecycler()) throws {
        for decl in module.tensors {
            if let l = linear[decl.name] {
                guard decl.shape.count == 2, l.rows == decl.shape[0] else {
                    throw BertError("tensor @\(decl.name): executable weight does not match the IR's shape \(decl.shape)")
                }
                continue
            }
            guard let t = weights[decl.name] else { throw BertError("tensor @\(decl.name) has no data") }
            guard t.shape == decl.shape else {
                throw BertError("tensor @\(decl.name) has shape \(t.shape), IR declares \(decl.shape)")
            }
        }
        self.module = module
        self.weights = weights
        self.recycler = recycler
        let pool = KernelPool(threads: threads)
        var prepared: [String: LinearWeight] = [:]
        for op in module.ops where op.kind == .linear {
            guard op.operands.count > 1, case .tensor(let name) = op.operands[1], prepared[name] == nil else { continue }
            if let l = linear[name] {
                prepared[name] = try l.prepared(packer: packer, pool: pool.raw)
            } else if let t = weights[name] {
                prepared[name] = try LinearWeight.dense(t).prepared(packer: packer, pool: pool.raw)
            }
        }
        self.linear = prepared
        var last: [String: Int] = [:]
        for (i, op) in module.ops.enumerated() {
            for case .value(let v) in op.operands { last[v] = i }
        }
        var dying = [[String]](repeating: [], count: module.ops.count)
        for (v, i) in last { dying[i].append(v) }
        self.dying = dying
        self.steps = ExecutionPlan.steps(module)
        self.pool = pool
    }

    public var threads: Int { pool.threads }

    /// Runs the graph on a padded batch and returns its outputs by name.
    public func run(_ batch: Batch) throws -> Outputs {
        var state = ExecutionState(batch: batch)
        for step in steps {
            switch step {
            case .op(let i): try execute(module.ops[i], &state)
            case .linearGelu(let l, let g): try linear(module.ops[l], gelu: true, result: module.ops[g], &state)
            case .addLayerNorm(let a, let n): try addLayerNorm(module.ops[a], module.ops[n], &state)
            case .linears(let l): try linears(l.map { module.ops[$0] }, &state)
            case .feedForward(let u, let g, let d):
                try feedForward(module.ops[u], module.ops[g], module.ops[d], addNorm: nil, &state)
            case .linearNorm(let l, let a, let n): try linearNorm(module.ops[l], module.ops[a], module.ops[n], &state)
            case .feedForwardNorm(let u, let g, let d, let a, let n):
                try feedForward(module.ops[u], module.ops[g], module.ops[d], addNorm: (module.ops[a], module.ops[n]), &state)
            }
            for i in step.ops { for v in dying[i] { state.values[v] = nil } }
        }
        return Outputs(batch: batch, values: state.outputs)
    }

    func tensor(_ op: Op, _ i: Int) throws -> TensorBuffer {
        guard i < op.operands.count, case .tensor(let name) = op.operands[i], let t = weights[name] else {
            throw BertError("\(op.kind.rawValue): operand \(i) is not a loaded tensor")
        }
        return t
    }

    func optionalTensor(_ op: Op, _ i: Int) throws -> TensorBuffer? {
        i < op.operands.count ? try tensor(op, i) : nil
    }

    func value(_ op: Op, _ i: Int, _ state: ExecutionState) throws -> Activation {
        guard i < op.operands.count, case .value(let name) = op.operands[i], let v = state.values[name] else {
            throw BertError("\(op.kind.rawValue): operand \(i) is not a computed value")
        }
        return v
    }

    private func execute(_ op: Op, _ state: inout ExecutionState) throws {
        let b = state.batch.size, s = state.batch.seq
        switch op.kind {
        case .input:
            return  // inputs are read from the batch by the ops that take them
        case .embeddings:
            try embeddings(op, &state)
        case .layerNorm:
            try layerNorm(op, x: try value(op, 0, state), residual: nil, &state)
        case .linear:
            try linear(op, gelu: false, result: op, &state)
        case .attention:
            let q = try value(op, 0, state), k = try value(op, 1, state), v = try value(op, 2, state)
            let heads = op.attributes[attr: "heads"]?.intValue ?? 1
            let h = q.shape.last ?? 0
            let out = Activation(shape: q.shape, recycler: recycler)
            try state.batch.attentionMask.withUnsafeBufferPointer { mask in
                try check(bk_attention(pool.raw, q.pointer, k.pointer, v.pointer, mask.baseAddress, Int64(b), Int64(s),
                                       Int64(h), Int64(heads), out.pointer), "attention")
            }
            state.define(op, out)
        case .add:
            let x = try value(op, 0, state), y = try value(op, 1, state)
            let out = Activation(shape: x.shape, recycler: recycler)
            bk_add(x.pointer, y.pointer, out.pointer, x.count)
            state.define(op, out)
        case .gelu:
            let x = try value(op, 0, state)
            let out = x.copy()
            bk_gelu_erf(out.pointer, out.count)
            state.define(op, out)
        case .tanh:
            let x = try value(op, 0, state)
            let out = x.copy()
            bk_tanh(out.pointer, out.count)
            state.define(op, out)
        case .cls:
            let x = try value(op, 0, state)
            let h = x.shape.last ?? 0
            let out = Activation(shape: [b, h], recycler: recycler)
            for i in 0..<b { (out.pointer + i * h).update(from: x.pointer + i * s * h, count: h) }
            state.define(op, out)
        case .output:
            let x = try value(op, 0, state)
            let name = op.attributes[attr: "name"]?.stringValue ?? "output"
            state.outputs[name] = x
        }
    }
}

extension Engine {
    /// `op` (a linear), optionally with GELU applied to its output; the result is defined as `result`'s.
    func linear(_ op: Op, gelu: Bool, result: Op, _ state: inout ExecutionState) throws {
        let x = try value(op, 0, state), bias = try optionalTensor(op, 2)
        guard op.operands.count > 1, case .tensor(let name) = op.operands[1] else {
            throw BertError("linear: operand 1 is not a tensor")
        }
        let w = try linear[name] ?? .dense(tensor(op, 1))
        let k = x.shape.last ?? 0
        let m = x.count / max(k, 1)
        let out = Activation(shape: Array(x.shape.dropLast()) + [w.rows], recycler: recycler)
        try w.apply(pool: pool.raw, x: x.pointer, m: m, k: k, bias: bias?.pointer, gelu: gelu, y: out.pointer)
        state.define(result, out)
    }

    /// Word + position + token-type embeddings. A large word table in a mapped file is read row by row with
    /// pread (BertIR's MappedFile.copy): touching the map would make the kernel map the pages around every
    /// row read, and over many batches most of the table would become resident.
    fileprivate func embeddings(_ op: Op, _ state: inout ExecutionState) throws {
        let b = state.batch.size, s = state.batch.seq
        let word = try tensor(op, 2), pos = try tensor(op, 3), type = try tensor(op, 4)
        let h = word.shape[1]
        let out = Activation(shape: [b, s, h], recycler: recycler)
        var table = word.pointer, vocab = word.shape[0], ids = state.batch.inputIds
        var gathered: Activation?
        if word.byteCount >= 8 << 20, let file = word.owner as? MappedFile {
            let rows = Activation(shape: [b * s, h], recycler: recycler)
            for (i, id) in ids.enumerated() {
                guard id >= 0, Int(id) < vocab else { throw BertError("embeddings: token id \(id) is outside the vocabulary of \(vocab)") }
                file.copy(from: UnsafeRawPointer(word.pointer + Int(id) * h), count: h * 4, to: UnsafeMutableRawPointer(rows.pointer + i * h))
            }
            table = UnsafePointer(rows.pointer); vocab = b * s; ids = (0..<Int32(b * s)).map { $0 }
            gathered = rows
        }
        try ids.withUnsafeBufferPointer { idp in
            try state.batch.tokenTypeIds.withUnsafeBufferPointer { types in
                try check(bk_embeddings(idp.baseAddress, types.baseAddress, Int64(b), Int64(s), table, Int64(vocab),
                                        pos.pointer, Int64(pos.shape[0]), type.pointer, Int64(type.shape[0]), Int64(h),
                                        out.pointer), "embeddings")
            }
        }
        withExtendedLifetime(gathered) {}
        state.define(op, out)
    }

    /// layer_norm(x + residual) (residual nil: of x) with `op`'s parameters.
    func layerNorm(_ op: Op, x: Activation, residual: Activation?, _ state: inout ExecutionState) throws {
        let g = try tensor(op, 1), beta = try tensor(op, 2)
        let eps = Float(op.attributes[attr: "eps"]?.doubleValue ?? 1e-12)
        let n = x.shape.last ?? 0
        if let residual, residual.shape != x.shape {
            throw BertError("add: shapes \(x.shape) and \(residual.shape) differ")
        }
        let out = Activation(shape: x.shape, recycler: recycler)
        try check(bk_layer_norm(pool.raw, x.pointer, residual?.pointer, Int64(x.count / max(n, 1)), Int64(n), g.pointer, beta.pointer,
                                eps, out.pointer), "layer_norm")
        state.define(op, out)
    }

    /// `norm`(`add`'s two inputs summed), without materialising the sum.
    func addLayerNorm(_ add: Op, _ norm: Op, _ state: inout ExecutionState) throws {
        try layerNorm(norm, x: try value(add, 0, state), residual: try value(add, 1, state), &state)
    }
}

/// Values computed so far while running one batch.
struct ExecutionState {
    let batch: Batch
    var values: [String: Activation] = [:]
    var outputs: [String: Activation] = [:]

    init(batch: Batch) { self.batch = batch }

    mutating func define(_ op: Op, _ value: Activation) {
        if let r = op.result { values[r] = value }
    }
}
