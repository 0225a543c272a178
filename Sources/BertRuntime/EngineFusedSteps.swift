import BertIR
import CBertKernels

/// The engine's grouped and fused steps (ExecutionPlan): Q/K/V in one call (CSR or packed), and over CSR weights the
/// feed-forward block in one call and a linear's residual add + layer norm applied per block of tokens. Each falls
/// back to the ops one by one where its weights do not allow it.
extension Engine {
    /// Linears over the same input: in one bk_csr_linear_multi call when every weight is CSR, in one
    /// bk_linear_packed_multi call when every weight is packed (dense or masked), else one by one.
    func linears(_ ops: [Op], _ state: inout ExecutionState) throws {
        let x = try value(ops[0], 0, state)
        let k = x.shape.last ?? 0, m = x.count / max(k, 1)
        var weights: [LinearWeight] = []
        for op in ops {
            guard op.operands.count > 1, case .tensor(let name) = op.operands[1], let w = linear[name] else { break }
            weights.append(w)
        }
        var outs: [Activation] = []
        if weights.count == ops.count {
            var csr: [bk_csr_weight] = [], packed: [bk_packed_weight] = []
            for (op, w) in zip(ops, weights) {
                let out = Activation(shape: Array(x.shape.dropLast()) + [w.rows], recycler: recycler)
                let bias = try optionalTensor(op, 2)?.pointer
                if case .csr(let rows, let cols, let rowPtr, let colIdx, let indexBytes, let values, _) = w, cols == k {
                    csr.append(bk_csr_weight(row_ptr: rowPtr, col_idx: colIdx, index_bytes: Int32(indexBytes),
                                             values: values, n: Int64(rows), bias: bias, y: out.pointer))
                } else if let part = w.packedPart(k: k, bias: bias, y: out.pointer) {
                    packed.append(part)
                }
                outs.append(out)
            }
            if csr.count == ops.count {
                try check(bk_csr_linear_multi(pool.raw, x.pointer, Int64(m), Int64(k), csr, Int32(csr.count),
                                              BK_EPILOGUE_NONE), "csr linear")
            } else if packed.count == ops.count {
                try check(bk_linear_packed_multi(pool.raw, x.pointer, Int64(m), Int64(k), packed, Int32(packed.count),
                                                 BK_EPILOGUE_NONE), "linear")
            } else {
                outs = []
            }
        }
        guard outs.count == ops.count else {
            for op in ops { try linear(op, gelu: false, result: op, &state) }
            return
        }
        withExtendedLifetime(weights) {}
        for (op, out) in zip(ops, outs) { state.define(op, out) }
    }

    /// linear + gelu + linear (+ add + layer_norm when `addNorm`): one bk_csr_ffn call when both weights are CSR
    /// (normalising each block of tokens as it is done), else the GEMM with fused GELU, the second linear and the
    /// fused add + layer norm.
    func feedForward(_ up: Op, _ gelu: Op, _ down: Op, addNorm: (add: Op, norm: Op)?,
                     _ state: inout ExecutionState) throws {
        let x = try value(up, 0, state)
        let k = x.shape.last ?? 0
        guard up.operands.count > 1, case .tensor(let upName) = up.operands[1], down.operands.count > 1,
              case .tensor(let downName) = down.operands[1],
              case .csr(let inner, let upCols, let upRows, let upIdx, let upBytes, let upValues, _)? = linear[upName],
              case .csr(let outRows, let downCols, let dnRows, let dnIdx, let dnBytes, let dnValues, _)? = linear[downName],
              upCols == k, downCols == inner else {
            try denseFeedForward(up, gelu, down, x: x, &state)
            if let addNorm { try addLayerNorm(addNorm.add, addNorm.norm, &state) }
            return
        }
        let lead = Array(x.shape.dropLast())
        let hidden = Activation(shape: lead + [inner], recycler: recycler)  // written only when bk_csr_ffn does not fuse
        let out = Activation(shape: lead + [outRows], recycler: recycler)
        var u = bk_csr_weight(row_ptr: upRows, col_idx: upIdx, index_bytes: Int32(upBytes), values: upValues, n: Int64(inner),
                              bias: try optionalTensor(up, 2)?.pointer, y: hidden.pointer)
        var d = bk_csr_weight(row_ptr: dnRows, col_idx: dnIdx, index_bytes: Int32(dnBytes), values: dnValues,
                              n: Int64(outRows), bias: try optionalTensor(down, 2)?.pointer, y: out.pointer)
        let m = Int64(x.count / max(k, 1))
        guard let addNorm else {
            try check(bk_csr_ffn(pool.raw, x.pointer, m, Int64(k), &u, &d, nil), "csr feed-forward")
            withExtendedLifetime(hidden) {}
            state.define(down, out)
            return
        }
        let (residual, params) = try addNormOperands(result: down, addNorm.add, addNorm.norm, state)
        let normed = Activation(shape: out.shape, recycler: recycler)
        var n = params.bkAddNorm(residual: residual, out: normed)
        try check(bk_csr_ffn(pool.raw, x.pointer, m, Int64(k), &u, &d, &n), "csr feed-forward")
        withExtendedLifetime((hidden, out, residual)) {}
        state.define(addNorm.norm, normed)
    }

    /// The feed-forward block over packed (dense or masked) weights: one bk_linear_packed_ffn call (for 3072 inner
    /// features the intermediate goes to scratch at the padded stride the down projection reads), else the GEMM with
    /// fused GELU, then the second linear.
    private func denseFeedForward(_ up: Op, _ gelu: Op, _ down: Op, x: Activation, _ state: inout ExecutionState) throws {
        let k = x.shape.last ?? 0
        guard up.operands.count > 1, case .tensor(let upName) = up.operands[1], down.operands.count > 1,
              case .tensor(let downName) = down.operands[1], let upW = linear[upName], let downW = linear[downName],
              var u = upW.packedPart(k: k, bias: try optionalTensor(up, 2)?.pointer, y: nil),
              var d = downW.packedPart(k: upW.rows, bias: try optionalTensor(down, 2)?.pointer, y: nil) else {
            try linear(up, gelu: true, result: gelu, &state)
            try linear(down, gelu: false, result: down, &state)
            return
        }
        let lead = Array(x.shape.dropLast())
        let hidden = Activation(shape: lead + [upW.rows], recycler: recycler)  // written only when not in scratch
        let out = Activation(shape: lead + [downW.rows], recycler: recycler)
        u.y = hidden.pointer
        d.y = out.pointer
        try check(bk_linear_packed_ffn(pool.raw, x.pointer, Int64(x.count / max(k, 1)), Int64(k), &u, &d), "linear")
        withExtendedLifetime((hidden, upW, downW)) {}
        state.define(down, out)
    }

    /// linear + add + layer_norm: one bk_csr_linear_norm call when the weight is CSR (each block of tokens normalised
    /// as it is done), else the linear and the fused add + layer norm.
    func linearNorm(_ op: Op, _ add: Op, _ norm: Op, _ state: inout ExecutionState) throws {
        let x = try value(op, 0, state)
        let k = x.shape.last ?? 0
        guard op.operands.count > 1, case .tensor(let name) = op.operands[1],
              case .csr(let rows, let cols, let rowPtr, let colIdx, let indexBytes, let values, _)? = linear[name],
              cols == k else {
            try linear(op, gelu: false, result: op, &state)
            try addLayerNorm(add, norm, &state)
            return
        }
        let (residual, params) = try addNormOperands(result: op, add, norm, state)
        let shape = Array(x.shape.dropLast()) + [rows]
        // y is written only where bk_csr_linear_norm does not split the tokens (else each block goes through scratch).
        let y = Activation(shape: shape, recycler: recycler), normed = Activation(shape: shape, recycler: recycler)
        var w = bk_csr_weight(row_ptr: rowPtr, col_idx: colIdx, index_bytes: Int32(indexBytes), values: values,
                              n: Int64(rows), bias: try optionalTensor(op, 2)?.pointer, y: y.pointer)
        var n = params.bkAddNorm(residual: residual, out: normed)
        try check(bk_csr_linear_norm(pool.raw, x.pointer, Int64(x.count / max(k, 1)), Int64(k), &w, &n), "csr linear")
        withExtendedLifetime((y, residual)) {}
        state.define(norm, normed)
    }

    /// The add's other operand (the residual) and the layer norm's parameters, for a fused step in which `result`'s
    /// op feeds `add`.
    private func addNormOperands(result: Op, _ add: Op, _ norm: Op, _ state: ExecutionState) throws
        -> (Activation, NormParams) {
        guard add.operands.count == 2, let r = result.result else { throw BertError("add: expects two operands") }
        let other = add.operands[0] == .value(r) ? 1 : 0
        let residual = try value(add, other, state)
        return (residual, NormParams(gamma: try tensor(norm, 1), beta: try tensor(norm, 2),
                                     eps: Float(norm.attributes[attr: "eps"]?.doubleValue ?? 1e-12)))
    }
}

/// A layer norm's parameters, as bk_add_norm takes them.
struct NormParams {
    let gamma: TensorBuffer
    let beta: TensorBuffer
    let eps: Float

    func bkAddNorm(residual: Activation, out: Activation) -> bk_add_norm {
        bk_add_norm(residual: UnsafePointer(residual.pointer), gamma: gamma.pointer, beta: beta.pointer, eps: eps, out: out.pointer)
    }
}
