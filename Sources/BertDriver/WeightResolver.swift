import BertArtifact
import BertIR
import BertRuntime
import BertSparse

/// Turns an artifact's storage decisions into what the engine executes: dense buffers (mapped
/// from the artifact or the base, or materialised) and CSR or masked linear weights.
struct WeightResolver {
    let artifact: Artifact
    let base: WeightStore?
    var path: String { artifact.path }

    func resolve() throws -> (weights: WeightStore, linear: [String: LinearWeight]) {
        let weights = WeightStore()
        var linear: [String: LinearWeight] = [:]
        for decl in artifact.contents.module.tensors {
            if decl.compute == .masked {
                guard decl.storage == .mask else {
                    throw BertError(path, "tensor @\(decl.name): compute masked needs storage mask")
                }
                let base = try baseTensor(decl)  // before decoding: the base vouches for the mask's size
                guard case .mask(let zeroed)? = try artifact.encodedTensor(named: decl.name) else { throw missing(decl) }
                linear[decl.name] = .masked(base: base, zeroed: zeroed)
                continue
            }
            if decl.compute == .csr, decl.storage == .csr, case .csr(let view)? = try artifact.encodedTensor(named: decl.name) {
                linear[decl.name] = .csr(view, rows: decl.shape[0], cols: decl.shape[1], owner: artifact)
                continue
            }
            let values = try denseValues(decl)
            if decl.compute == .csr {
                guard decl.shape.count == 2 else { throw BertError(path, "tensor @\(decl.name): compute csr needs a 2-D weight") }
                linear[decl.name] = try LinearWeight.csr(dense: values.buffer, rows: decl.shape[0], cols: decl.shape[1])
            } else {
                weights[decl.name] = values
            }
        }
        return (weights, linear)
    }

    /// The tensor's values as a dense buffer: mapped when stored dense or shared, else materialised.
    func denseValues(_ decl: TensorDecl) throws -> TensorBuffer {
        switch decl.storage {
        case .dense:
            guard let t = artifact.weights[decl.name] else { throw BertError(path, "tensor @\(decl.name) has no data") }
            return t
        case .shared:
            return try baseTensor(decl)
        case .mask:
            let base = try baseTensor(decl)
            guard case .mask(let zeroed)? = try artifact.encodedTensor(named: decl.name) else { throw missing(decl) }
            return TensorBuffer(shape: decl.shape, values: Materialize.applyMask(base: base.buffer, zeroed: zeroed))
        case .csr:
            guard case .csr(let view)? = try artifact.encodedTensor(named: decl.name) else { throw missing(decl) }
            return TensorBuffer(shape: decl.shape, values: view.toDense())
        case .delta:
            let base = try baseTensor(decl)
            guard case .delta(let d)? = try artifact.encodedTensor(named: decl.name) else { throw missing(decl) }
            return TensorBuffer(shape: decl.shape, values: d.apply(to: base.buffer))
        }
    }

    func baseTensor(_ decl: TensorDecl) throws -> TensorBuffer {
        guard let t = base?[decl.name] else {
            throw BertError(path, "tensor @\(decl.name) is \(decl.storage.rawValue) over the base but the base has no such tensor")
        }
        guard t.shape == decl.shape else {
            throw BertError(path, "tensor @\(decl.name) is \(decl.shape) but the base's is \(t.shape)")
        }
        return t
    }

    func missing(_ decl: TensorDecl) -> BertError {
        BertError(path, "tensor @\(decl.name) is declared \(decl.storage.rawValue) but has no such data")
    }
}
