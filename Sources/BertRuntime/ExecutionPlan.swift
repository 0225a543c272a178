import BertIR

/// The order the engine runs a module's ops in, with two adjacent pairs fused when the first op's
/// result has no other reader: linear + gelu (GELU applied by the GEMM while its output is in cache)
/// and add + layer_norm (the layer norm reads the sum's two inputs: bk_layer_norm's residual); and
/// adjacent linears over the same input (an attention's Q, K and V) grouped, so that CSR weights run in
/// one kernel call (bk_csr_linear_multi: one transpose of the input). The fusions give the same floats as
/// running the ops one by one; a CSR group agrees with separate calls to rounding (its token blocks follow
/// the group's total work), and every run of one plan gives the same bits. linear + gelu + linear, each
/// result read only by the next op (BERT's feed-forward block), is one step so that CSR weights run as
/// bk_csr_ffn (the intermediate kept per block of tokens; the same bits as linear+gelu, then linear). A linear
/// or feed-forward block whose result only feeds add + layer_norm takes them into its step, so that with CSR
/// weights each block of tokens is normalised while in cache (bk_csr_linear_norm; the same bits as the ops in turn).
/// Dense Q/K/V groups run as one bk_linear_packed_multi call (the same bits as three calls).
enum Step: Equatable {
    case op(Int)
    case linearGelu(linear: Int, gelu: Int)
    case addLayerNorm(add: Int, norm: Int)
    case linears([Int])
    case feedForward(up: Int, gelu: Int, down: Int)
    /// A linear whose result only feeds an add whose result only feeds a layer norm (BERT's attention output).
    case linearNorm(linear: Int, add: Int, norm: Int)
    /// A feed-forward block followed, the same way, by its residual add and layer norm.
    case feedForwardNorm(up: Int, gelu: Int, down: Int, add: Int, norm: Int)

    /// The module ops this step stands for.
    var ops: [Int] {
        switch self {
        case .op(let i): return [i]
        case .linearGelu(let a, let b), .addLayerNorm(let a, let b): return [a, b]
        case .linears(let l): return l
        case .feedForward(let u, let g, let d): return [u, g, d]
        case .linearNorm(let l, let a, let n): return [l, a, n]
        case .feedForwardNorm(let u, let g, let d, let a, let n): return [u, g, d, a, n]
        }
    }
}

enum ExecutionPlan {
    static func steps(_ module: Module) -> [Step] {
        var readers: [String: Int] = [:]
        for op in module.ops {
            for case .value(let v) in op.operands { readers[v, default: 0] += 1 }
        }
        let ops = module.ops
        func feedsOnly(_ i: Int, into next: Int) -> Bool {
            guard next < ops.count, let r = ops[i].result, readers[r] == 1,
                  case .value(let v)? = ops[next].operands.first else { return false }
            return v == r
        }
        /// ops[i]'s result is read only by an add at i + 1 (either operand), whose result is read only by a layer
        /// norm at i + 2.
        func addNormFollows(_ i: Int) -> Bool {
            guard i + 2 < ops.count, ops[i + 1].kind == .add, ops[i + 2].kind == .layerNorm, let r = ops[i].result,
                  readers[r] == 1, ops[i + 1].operands.count == 2, ops[i + 1].operands.contains(.value(r)) else { return false }
            return feedsOnly(i + 1, into: i + 2)
        }
        func geluFollows(_ i: Int) -> Bool { i + 1 < ops.count && ops[i + 1].kind == .gelu && feedsOnly(i, into: i + 1) }
        /// Linears from i on that read ops[i]'s input, none of them followed by its GELU (at most 4: BK_CSR_MAX_PARTS,
        /// BK_PACKED_MAX_PARTS).
        func sameInput(from i: Int) -> [Int] {
            guard ops[i].kind == .linear, let input = ops[i].operands.first, case .value = input else { return [] }
            var group: [Int] = []
            var j = i
            while j < ops.count, group.count < 4, ops[j].kind == .linear, ops[j].operands.first == input, !geluFollows(j) {
                group.append(j); j += 1
            }
            return group
        }
        var steps: [Step] = []
        var i = 0
        while i < ops.count {
            let group = sameInput(from: i)
            if group.count > 1 {
                steps.append(.linears(group)); i += group.count
            } else if ops[i].kind == .linear, geluFollows(i), i + 2 < ops.count, ops[i + 2].kind == .linear,
                      feedsOnly(i + 1, into: i + 2) {
                if addNormFollows(i + 2) {
                    steps.append(.feedForwardNorm(up: i, gelu: i + 1, down: i + 2, add: i + 3, norm: i + 4)); i += 5
                } else {
                    steps.append(.feedForward(up: i, gelu: i + 1, down: i + 2)); i += 3
                }
            } else if ops[i].kind == .linear, addNormFollows(i) {
                steps.append(.linearNorm(linear: i, add: i + 1, norm: i + 2)); i += 3
            } else if ops[i].kind == .linear, geluFollows(i) {
                steps.append(.linearGelu(linear: i, gelu: i + 1)); i += 2
            } else if ops[i].kind == .add, i + 1 < ops.count, ops[i + 1].kind == .layerNorm, feedsOnly(i, into: i + 1) {
                steps.append(.addLayerNorm(add: i, norm: i + 1)); i += 2
            } else {
                steps.append(.op(i)); i += 1
            }
        }
        return steps
    }
}
