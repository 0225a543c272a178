/// `bertc analyze --json`: one JSON object (keys documented in `bertc analyze --help`).
enum AnalysisJSON {
    static func format(_ a: WeightAnalysis) -> String {
        var s = "{\n"
        s += "  \"finetuned\": \(JSONText.string(a.tunedPath)),\n  \"base\": \(JSONText.string(a.basePath)),\n"
        s += "  \"units\": {\"l1\": \"mean absolute difference\", \"angle\": \"degrees\", "
            + "\"relative_frobenius\": \"|finetuned - base|_F / |base|_F\", "
            + "\"changed_fraction\": \"entries whose bits differ / entries\", "
            + "\"zeroed_fraction\": \"entries with base != 0 and finetuned == 0 / entries\"},\n"
        s += "  \"overall\": \(metrics(a.overall)),\n"
        s += "  \"layers\": [\n" + a.layers.map {
            "    {\"layer\": \(JSONText.string($0.name)), \"tensors\": \($0.tensors.count), " + fields($0.distance) + "}"
        }.joined(separator: ",\n") + "\n  ],\n"
        s += "  \"tensors\": [\n" + a.tensors.map {
            "    {\"name\": \(JSONText.string($0.name)), \"layer\": \(JSONText.string($0.place.layer)), "
                + "\"type\": \(JSONText.string($0.place.type)), \"shape\": \(shape($0.shape)), " + fields($0.distance) + "}"
        }.joined(separator: ",\n") + "\n  ],\n"
        s += "  \"types\": [\n" + a.types.map { t in
            "    {\"type\": \(JSONText.string(t.type)), \"points\": [" + t.points.map {
                "{\"layer\": \(JSONText.string($0.layer)), " + fields($0.distance) + "}"
            }.joined(separator: ", ") + "]}"
        }.joined(separator: ",\n") + "\n  ],\n"
        s += "  \"added\": [" + a.added.map { named($0.name, $0.shape) }.joined(separator: ", ") + "],\n"
        s += "  \"removed\": [" + a.removed.map { named($0.name, $0.shape) }.joined(separator: ", ") + "],\n"
        s += "  \"critical_layers\": [" + a.candidates.map {
            "{\"layer\": \(JSONText.string($0.name)), \"relative_frobenius\": \(number($0.distance.relativeFrobenius))}"
        }.joined(separator: ", ") + "]\n"
        return s + "}\n"
    }

    static func metrics(_ d: Distance) -> String { "{" + fields(d) + "}" }

    static func fields(_ d: Distance) -> String {
        "\"elements\": \(d.elements), \"l1\": \(number(d.l1)), \"angle_degrees\": \(number(d.angleDegrees)), "
            + "\"relative_frobenius\": \(number(d.relativeFrobenius)), \"changed\": \(d.changed), "
            + "\"changed_fraction\": \(number(d.changedFraction)), \"zeroed\": \(d.zeroed), "
            + "\"zeroed_fraction\": \(number(d.zeroedFraction))"
    }

    static func named(_ name: String, _ s: [Int]) -> String { "{\"name\": \(JSONText.string(name)), \"shape\": \(shape(s))}" }
    static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
    /// Shortest round-trip decimal; null for infinity and NaN (JSON has neither).
    static func number(_ x: Double) -> String { x.isFinite ? x.description : "null" }
}
