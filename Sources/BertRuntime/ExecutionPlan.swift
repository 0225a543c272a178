import BertIR

/// The order the engine runs a module's ops in, with two adjacent pairs fused when the first op's
/// result has no other reader: linear + gelu (GELU applied by the GEMM while its output is in cache)
/// and add + layer_norm (the layer norm reads the sum's two inputs: bk_layer_norm's residual). Both give
/// the same floats as running the ops one by one.
enum Step: Equatable {
    case op(Int)
    case linearGelu(linear: Int, gelu: Int)
    case addLayerNorm(add: Int, norm: Int)

    /// The module ops this step stands for.
    var ops: [Int] {
        switch self {
        case .op(let i): return [i]
        case .linearGelu(let a, let b), .addLayerNorm(let a, let b): return [a, b]
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
        var steps: [Step] = []
        var i = 0
        while i < ops.count {
            if ops[i].kind == .linear, i + 1 < ops.count, ops[i + 1].kind == .gelu, feedsOnly(i, into: i + 1) {
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
