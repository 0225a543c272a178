/// Where a weight sits in a BERT: its layer (`embeddings`, `encoder.layer.N`, `pooler`, `classifier`) and
/// its type (the module it belongs to, weight and bias together: `query`, `key`, `value`,
/// `attention.output.dense`, `attention.output.LayerNorm`, `intermediate.dense`, `output.dense`,
/// `output.LayerNorm`; `embeddings`, `pooler`, `classifier` for the tensors outside the encoder layers).
struct WeightPlace: Equatable {
    /// The layer name, as printed.
    var layer: String
    /// The encoder layer index, nil outside the encoder layers.
    var depth: Int?
    var type: String

    init(layer: String, depth: Int?, type: String) { self.layer = layer; self.depth = depth; self.type = type }

    /// The place of the canonical tensor name `name`.
    init(_ name: String) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 3, parts[0] == "encoder", parts[1] == "layer", let n = Int(parts[2]) {
            layer = "encoder.layer.\(n)"
            depth = n
            var rest = Array(parts.dropFirst(3))
            if let last = rest.last, last == "weight" || last == "bias" { rest.removeLast() }
            if rest.count == 3, rest[0] == "attention", rest[1] == "self" { rest.removeFirst(2) }
            type = rest.isEmpty ? "other" : rest.joined(separator: ".")
        } else {
            layer = parts[0]
            depth = nil
            type = parts[0]
        }
    }

    /// Sort key for layers in model order: embeddings, encoder layers by depth, pooler, classifier, others.
    static func layerOrder(_ layer: String) -> (Int, Int, String) {
        let p = WeightPlace(layer + ".x")
        if let d = p.depth { return (1, d, "") }
        switch layer {
        case "embeddings": return (0, 0, "")
        case "pooler": return (2, 0, "")
        case "classifier": return (3, 0, "")
        default: return (4, 0, layer)
        }
    }

    /// Types in the order the figure's legend and the JSON list them.
    static let typeOrder = ["embeddings", "query", "key", "value", "attention.output.dense", "attention.output.LayerNorm",
                            "intermediate.dense", "output.dense", "output.LayerNorm", "pooler", "classifier"]

    static func typeRank(_ type: String) -> Int { typeOrder.firstIndex(of: type) ?? typeOrder.count }
}

/// The distance of a group of tensors (a layer, or one type at one depth), measured as one vector.
struct GroupDistance {
    var name: String
    var tensors: [String]
    var distance: Distance
}
