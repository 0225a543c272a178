/// FLOP count of one forward pass of a graph, for the GFLOP/s column of `bertrun bench`.
///
/// Counted: 2*M*K*N for every `linear` (M the rows of its input, [N, K] the weight's shape as
/// declared in the IR, i.e. the dense shape even when the weight executes as CSR or masked, so
/// sparse models report dense-equivalent "effective" GFLOP/s), plus 4*B*S*S*H for every
/// `attention` (QK^T and PV). Embeddings, layer norms, GELU and adds are not counted.
import BertIR

enum GraphFlops {
    /// FLOPs for a batch of `batch` rows of `seq` tokens.
    static func count(_ module: Module, batch: Int, seq: Int) -> Double {
        var total = 0.0
        for op in module.ops {
            guard let type = op.type, let last = type.dims.last, case .fixed(let width) = last else { continue }
            var rows = 1.0
            for d in type.dims.dropLast() {
                switch d {
                case .fixed(let v): rows *= Double(v)
                case .symbol(let s): rows *= Double(s == "B" ? batch : s == "S" ? seq : 1)
                }
            }
            switch op.kind {
            case .linear:
                guard let w = op.tensorOperands.first, let decl = module.tensor(named: w), decl.shape.count == 2 else { continue }
                total += 2 * rows * Double(decl.shape[1]) * Double(decl.shape[0])
            case .attention:
                // rows = B*S; each of the B*S queries meets S keys over width H, twice (scores and values).
                total += 4 * rows * Double(seq) * Double(width)
            default:
                continue
            }
        }
        return total
    }
}
