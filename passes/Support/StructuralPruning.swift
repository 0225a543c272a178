/// Structural zero elimination for `eliminate-zeros`: removes FFN neurons whose intermediate weight row
/// and bias are zero (with the matching column of the output projection) and attention heads whose
/// query, key and value rows and biases are zero (with their columns of the attention output). Both
/// removals are exact: a dead neuron contributes gelu(0) = 0, a dead head attends with value 0.
/// Only patterns whose tensors and intermediate values have no other users are rewritten, and at least
/// one neuron and one head always remain.
import BertIR

struct StructuralPruning {
    private(set) var module: Module
    let weights: WeightStore
    /// For each value, the (op index, operand index) pairs that read it.
    private var valueUses: [String: [(op: Int, operand: Int)]] = [:]
    /// For each value, the index of the op defining it.
    private var producers: [String: Int] = [:]
    /// For each tensor, the number of operand positions that read it.
    private var tensorUses: [String: Int] = [:]

    init(module: Module, weights: WeightStore) {
        self.module = module; self.weights = weights
        for (i, op) in module.ops.enumerated() {
            if let r = op.result { producers[r] = i }
            for (j, operand) in op.operands.enumerated() {
                switch operand {
                case .value(let v): valueUses[v, default: []].append((i, j))
                case .tensor(let t): tensorUses[t, default: 0] += 1
                }
            }
        }
    }

    // MARK: FFN neurons

    /// Removes dead FFN neurons from every `linear -> gelu -> linear` chain; returns how many.
    mutating func removeDeadNeurons() -> Int {
        var removed = 0
        for g in module.ops.indices where module.ops[g].kind == .gelu {
            guard let up = producerLinear(of: g, operand: 0), let down = soleLinearConsumer(of: g),
                  let w1 = weightData(up.weight, rank: 2), w1.shape[0] >= 2 else { continue }
            let inner = w1.shape[0], k = w1.shape[1]
            let b1 = up.bias.flatMap { weightData($0, rank: 1) }
            guard up.bias == nil || b1?.shape == [inner],
                  let w2 = weightData(down.weight, rank: 2), w2.shape[1] == inner,
                  exclusive([up.weight, down.weight] + (up.bias.map { [$0] } ?? [])) else { continue }
            var keep: [Int] = []
            for j in 0..<inner {
                let rowZero = isZero(w1, from: j * k, count: k)
                let biasZero = b1.map { $0.buffer[j] == 0 } ?? true
                if !(rowZero && biasZero) { keep.append(j) }
            }
            if keep.isEmpty { keep = [inner - 1] }
            guard keep.count < inner else { continue }
            replace(up.weight, with: Self.rows(w1, keep, width: k))
            if let name = up.bias, let b1 { replace(name, with: Self.rows(b1, keep, width: 1)) }
            replace(down.weight, with: Self.columns(w2, keep))
            setLastDim(up.op, keep.count)
            setLastDim(g, keep.count)
            removed += inner - keep.count
        }
        return removed
    }

    // MARK: attention heads

    /// Removes dead heads from every attention op fed by three linears and read by one; returns how many.
    mutating func removeDeadHeads() -> Int {
        var removed = 0
        for a in module.ops.indices where module.ops[a].kind == .attention {
            let op = module.ops[a]
            guard let heads = op.attributes[attr: "heads"]?.intValue, heads >= 2,
                  let q = producerLinear(of: a, operand: 0), let k = producerLinear(of: a, operand: 1),
                  let v = producerLinear(of: a, operand: 2), Set([q.op, k.op, v.op]).count == 3,
                  let out = soleLinearConsumer(of: a) else { continue }
            let projections = [q, k, v]
            guard let wq = weightData(q.weight, rank: 2) else { continue }
            let width = wq.shape[0]
            guard width % heads == 0, case .fixed(width)? = module.ops[a].type?.dims.last else { continue }
            let dh = width / heads
            var ws: [TensorBuffer] = [], bs: [TensorBuffer?] = []
            var ok = true
            for p in projections {
                guard let w = weightData(p.weight, rank: 2), w.shape[0] == width else { ok = false; break }
                let b = p.bias.flatMap { weightData($0, rank: 1) }
                if p.bias != nil && b?.shape != [width] { ok = false; break }
                ws.append(w); bs.append(b)
            }
            guard ok, let wo = weightData(out.weight, rank: 2), wo.shape[1] == width,
                  exclusive(projections.flatMap { [$0.weight] + ($0.bias.map { [$0] } ?? []) } + [out.weight]) else { continue }
            var keepHeads: [Int] = []
            for h in 0..<heads {
                var dead = true
                for (w, b) in zip(ws, bs) where dead {
                    let cols = w.shape[1]
                    dead = isZero(w, from: h * dh * cols, count: dh * cols) && (b.map { isZero($0, from: h * dh, count: dh) } ?? true)
                }
                if !dead { keepHeads.append(h) }
            }
            if keepHeads.isEmpty { keepHeads = [heads - 1] }
            guard keepHeads.count < heads else { continue }
            let keep = keepHeads.flatMap { h in (h * dh)..<((h + 1) * dh) }
            for (p, (w, b)) in zip(projections, zip(ws, bs)) {
                replace(p.weight, with: Self.rows(w, keep, width: w.shape[1]))
                if let name = p.bias, let b { replace(name, with: Self.rows(b, keep, width: 1)) }
                setLastDim(p.op, keep.count)
            }
            replace(out.weight, with: Self.columns(wo, keep))
            setLastDim(a, keep.count)
            if let i = module.ops[a].attributes.firstIndex(where: { $0.name == "heads" }) {
                module.ops[a].attributes[i].value = .int(keepHeads.count)
            }
            removed += heads - keepHeads.count
        }
        return removed
    }

    // MARK: graph helpers

    private struct LinearRef { var op: Int; var weight: String; var bias: String? }

    /// The linear op (with a weight tensor) at `index`.
    private func linear(at index: Int) -> LinearRef? {
        let op = module.ops[index]
        guard op.kind == .linear, op.operands.count >= 2, op.operands.count <= 3,
              case .tensor(let w) = op.operands[1] else { return nil }
        var bias: String? = nil
        if op.operands.count == 3 {
            guard case .tensor(let b) = op.operands[2] else { return nil }
            bias = b
        }
        return LinearRef(op: index, weight: w, bias: bias)
    }

    /// The linear op producing operand `operand` of op `index`, when op `index` is that value's only reader.
    private func producerLinear(of index: Int, operand: Int) -> LinearRef? {
        let op = module.ops[index]
        guard operand < op.operands.count, case .value(let v) = op.operands[operand],
              let p = producers[v], p < index, let uses = valueUses[v], uses.count == 1 else { return nil }
        return linear(at: p)
    }

    /// The one linear op reading the result of op `index` as its input, when it is the only reader.
    private func soleLinearConsumer(of index: Int) -> LinearRef? {
        guard let r = module.ops[index].result, let uses = valueUses[r], uses.count == 1, uses[0].operand == 0 else { return nil }
        return linear(at: uses[0].op)
    }

    /// True when every tensor is distinct and read by exactly one operand position in the module.
    private func exclusive(_ names: [String]) -> Bool {
        Set(names).count == names.count && names.allSatisfy { tensorUses[$0] == 1 }
    }

    /// The data of tensor `name` when declared f32 with that rank and held with the declared shape.
    private func weightData(_ name: String, rank: Int) -> TensorBuffer? {
        guard let decl = module.tensor(named: name), decl.dtype == .f32, decl.shape.count == rank,
              decl.shape.allSatisfy({ $0 > 0 }), let data = weights[name], data.shape == decl.shape,
              data.count == decl.shape.reduce(1, *) else { return nil }
        return data
    }

    private func isZero(_ t: TensorBuffer, from start: Int, count: Int) -> Bool {
        guard start >= 0, count >= 0, start + count <= t.count else { return false }
        for i in start..<(start + count) where t.buffer[i] != 0 { return false }
        return true
    }

    /// Stores `data` as tensor `name`: new shape, dense storage and compute, size-dependent attributes dropped.
    private mutating func replace(_ name: String, with data: TensorBuffer) {
        weights[name] = data
        guard let i = module.tensorIndex(named: name) else { return }
        module.tensors[i].shape = data.shape
        module.tensors[i].storage = .dense
        module.tensors[i].compute = .dense
        for a in ["density", "zeroed", "changed"] { module.tensors[i].removeAttribute(a) }
    }

    private mutating func setLastDim(_ index: Int, _ n: Int) {
        guard var t = module.ops[index].type, !t.dims.isEmpty else { return }
        t.dims[t.dims.count - 1] = .fixed(n)
        module.ops[index].type = t
    }

    /// Rows `keep` of a row-major tensor whose rows are `width` long (a 1-D tensor has width 1).
    static func rows(_ t: TensorBuffer, _ keep: [Int], width: Int) -> TensorBuffer {
        var out: [Float] = []
        out.reserveCapacity(keep.count * width)
        let src = t.buffer
        for r in keep { out.append(contentsOf: src[(r * width)..<((r + 1) * width)]) }
        let shape = t.shape.count == 1 ? [keep.count] : [keep.count] + t.shape.dropFirst()
        return TensorBuffer(shape: shape, values: out)
    }

    /// Columns `keep` of a 2-D row-major tensor.
    static func columns(_ t: TensorBuffer, _ keep: [Int]) -> TensorBuffer {
        let n = t.shape[0], k = t.shape[1]
        var out: [Float] = []
        out.reserveCapacity(n * keep.count)
        let src = t.buffer
        for r in 0..<n { for c in keep { out.append(src[r * k + c]) } }
        return TensorBuffer(shape: [n, keep.count], values: out)
    }
}
