import BertIR

/// A fine-tuned checkpoint compared with its base, tensor by tensor (matched by canonical name), per
/// layer, per type at each depth, and overall; see `Distance` for the measures.
struct WeightAnalysis {
    struct TensorRow {
        var name: String
        var shape: [Int]
        var place: WeightPlace
        var distance: Distance
    }
    /// One type's distance at each depth where it occurs (the figure's lines).
    struct TypeSeries {
        var type: String
        var points: [(layer: String, depth: Int?, distance: Distance)]
    }

    var tunedPath: String
    var basePath: String
    /// Tensors in both, in the fine-tuned model's declaration order.
    var tensors: [TensorRow] = []
    var layers: [GroupDistance] = []
    var types: [TypeSeries] = []
    var overall = Distance()
    /// Tensors only in the fine-tuned model (e.g. a new classifier head) and only in the base.
    var added: [(name: String, shape: [Int])] = []
    var removed: [(name: String, shape: [Int])] = []
    /// Layers that moved most (largest relative Frobenius change first; the classifier head, which is
    /// always trained, is left out), at most `top`, only layers that changed at all.
    var candidates: [GroupDistance] = []

    /// Compares `tuned` with `base`. Both list their tensors in declaration order (`order`); a name in
    /// both with different shapes is an error naming the fine-tuned file.
    init(tuned: WeightStore, tunedOrder: [String], tunedPath: String,
         base: WeightStore, baseOrder: [String], basePath: String, top: Int) throws {
        self.tunedPath = tunedPath
        self.basePath = basePath
        var pairs: [String: TensorPair] = [:]
        for name in tunedOrder {
            guard let a = tuned[name] else { continue }
            guard let b = base[name] else { added.append((name, a.shape)); continue }
            guard a.shape == b.shape else {
                throw BertError(tunedPath, "tensor '\(name)' has shape \(a.shape) but the base's (\(basePath)) is \(b.shape)")
            }
            let pair = TensorPair(tuned: a.buffer, base: b.buffer)
            pairs[name] = pair
            tensors.append(TensorRow(name: name, shape: a.shape, place: WeightPlace(name),
                                     distance: TensorDistance.measure([pair])))
        }
        removed = baseOrder.filter { tuned[$0] == nil }.compactMap { n in base[n].map { (n, $0.shape) } }

        // Layers in model order.
        var byLayer: [String: [String]] = [:]
        for t in tensors { byLayer[t.place.layer, default: []].append(t.name) }
        layers = byLayer.keys.sorted { WeightPlace.layerOrder($0) < WeightPlace.layerOrder($1) }.map { layer in
            let names = byLayer[layer]!
            return GroupDistance(name: layer, tensors: names, distance: TensorDistance.measure(names.map { pairs[$0]! }))
        }
        // Types by depth.
        var byType: [String: [String: [String]]] = [:]
        for t in tensors { byType[t.place.type, default: [:]][t.place.layer, default: []].append(t.name) }
        types = byType.keys.sorted { (WeightPlace.typeRank($0), $0) < (WeightPlace.typeRank($1), $1) }.map { type in
            let layers = byType[type]!
            let points = layers.keys.sorted { WeightPlace.layerOrder($0) < WeightPlace.layerOrder($1) }.map { layer in
                (layer: layer, depth: WeightPlace(layer + ".x").depth,
                 distance: TensorDistance.measure(layers[layer]!.map { pairs[$0]! }))
            }
            return TypeSeries(type: type, points: points)
        }
        overall = TensorDistance.measure(tensors.map { pairs[$0.name]! })
        candidates = Array(layers.filter { $0.name != "classifier" && $0.distance.diffNormSquared > 0 }
            .sorted { ($0.distance.relativeFrobenius, $1.name) > ($1.distance.relativeFrobenius, $0.name) }
            .prefix(top))
    }
}
