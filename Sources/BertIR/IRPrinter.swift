/// The canonical textual form of a `Module` (the grammar is described in `IRParser.swift`).
///
/// The printer is the definition of the text: `IRParser.parse(IRPrinter.print(m)) == m` and printing a
/// parsed printer output gives the same text back. Two spaces indent every statement inside a module.
///
/// An encoder layer whose tensors (every tensor named `encoder.layer.<i>.*`) are all `storage = shared`,
/// declared one after another and without literal data, prints as ONE line listing them compactly:
///
///     layer @encoder.layer.3 {storage = shared, tensors = 2} = [@attention.self.query.weight : f32[384, 384], @attention.self.query.bias : f32[384]]
///
/// (an entry whose compute is not `dense` or that has extra attributes adds `{compute = ..., attr = ...}`
/// after its type). The parser expands the line back into the same `TensorDecl`s in the same order;
/// `Module` itself is unchanged: the grouping is a printing decision derived from names and storage.

/// What to add to the plain IR text.
public struct IRPrintOptions {
    /// Append `  // 4.0 KiB stored` or `  // shared with base (4.0 KiB)` to tensor lines.
    public var annotateSizes: Bool = false
    /// Print `= dense<[1.0, 2.0]>` after every tensor that has data here.
    public var literals: WeightStore? = nil
    /// Print a fully shared encoder layer as one `layer @encoder.layer.<i> ...` line (the canonical form).
    public var groupSharedLayers: Bool = true

    public init(annotateSizes: Bool = false, literals: WeightStore? = nil, groupSharedLayers: Bool = true) {
        self.annotateSizes = annotateSizes; self.literals = literals; self.groupSharedLayers = groupSharedLayers
    }
}

public enum IRPrinter {
    /// The module as canonical text, ending with a newline.
    public static func print(_ m: Module, options: IRPrintOptions = .init()) -> String {
        var out = "module @\(m.name) {\n"
        let groups = options.groupSharedLayers ? sharedLayerGroups(m, literals: options.literals) : [:]
        var i = 0
        while i < m.tensors.count {
            if let g = groups[i] {
                out += "  " + layerLine(g.layer, Array(m.tensors[g.range]), options: options) + "\n"
                i = g.range.upperBound
            } else {
                out += "  " + tensorLine(m.tensors[i], options: options) + "\n"
                i += 1
            }
        }
        for op in m.ops { out += "  " + opLine(op) + "\n" }
        out += "}\n"
        return out
    }

    /// One tensor declaration without indentation or newline.
    public static func tensorLine(_ t: TensorDecl, options: IRPrintOptions = .init()) -> String {
        var s = "tensor @\(t.name) : \(t.dtype.rawValue)[\(t.shape.map(String.init).joined(separator: ", "))]"
        let attrs = [NamedAttribute("storage", .ident(t.storage.rawValue)),
                     NamedAttribute("compute", .ident(t.compute.rawValue))] + t.attributes
        s += " " + attributeDict(attrs)
        if let store = options.literals, let data = store[t.name] {
            s += " = dense<[" + data.buffer.map(floatLiteral).joined(separator: ", ") + "]>"
        }
        if options.annotateSizes {
            let size = byteSize(t.dtype.size, t.shape)
            switch t.storage {
            case .dense: s += "  // \(size) stored"
            case .shared: s += "  // shared with base (\(size))"
            case .mask: s += "  // base plus mask (\(size) dense)"
            case .csr: s += "  // csr (\(size) dense)"
            case .delta: s += "  // base plus sparse delta (\(size) dense)"
            }
        }
        return s
    }

    /// `encoder.layer.<i>` for a tensor named `encoder.layer.<i>.<rest>` (i decimal digits, rest non-empty),
    /// else nil: the unit `share-base` shares and the printer groups.
    public static func encoderLayer(of name: String) -> String? {
        let prefix = "encoder.layer."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.utf8.dropFirst(prefix.utf8.count)
        guard let dot = rest.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let digits = rest[rest.startIndex..<dot]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), rest.index(after: dot) < rest.endIndex else {
            return nil
        }
        return String(decoding: name.utf8[name.utf8.startIndex..<dot], as: UTF8.self)
    }

    /// The encoder layers printed as one line, by the index of their first tensor: every tensor of the
    /// layer is `storage = shared`, they are consecutive in `m.tensors`, and none has literal data.
    public static func sharedLayerGroups(_ m: Module, literals: WeightStore? = nil) -> [Int: (layer: String, range: Range<Int>)] {
        var members: [String: [Int]] = [:]
        for (i, t) in m.tensors.enumerated() {
            if let layer = encoderLayer(of: t.name) { members[layer, default: []].append(i) }
        }
        var out: [Int: (layer: String, range: Range<Int>)] = [:]
        for (layer, idx) in members {
            guard let first = idx.first, let last = idx.last, last - first + 1 == idx.count else { continue }
            let eligible = idx.allSatisfy { m.tensors[$0].storage == .shared && literals?[m.tensors[$0].name] == nil }
            if eligible { out[first] = (layer, first..<(last + 1)) }
        }
        return out
    }

    /// The one line of a shared layer: `layer @encoder.layer.3 {storage = shared, tensors = N} = [@suffix : f32[..], ...]`.
    public static func layerLine(_ layer: String, _ tensors: [TensorDecl], options: IRPrintOptions = .init()) -> String {
        let cut = layer.utf8.count + 1
        let entries = tensors.map { t -> String in
            var e = "@" + String(decoding: t.name.utf8.dropFirst(cut), as: UTF8.self)
            e += " : \(t.dtype.rawValue)[\(t.shape.map(String.init).joined(separator: ", "))]"
            if t.compute != .dense || !t.attributes.isEmpty {
                e += " " + attributeDict([NamedAttribute("compute", .ident(t.compute.rawValue))] + t.attributes)
            }
            return e
        }
        var s = "layer @\(layer) {storage = shared, tensors = \(tensors.count)} = [" + entries.joined(separator: ", ") + "]"
        if options.annotateSizes {
            var total = 0
            var overflow = false
            for t in tensors {
                guard let n = safeElementCount(t.shape) else { overflow = true; break }
                let (b, o1) = n.multipliedReportingOverflow(by: t.dtype.size)
                let (sum, o2) = total.addingReportingOverflow(b)
                if o1 || o2 { overflow = true; break }
                total = sum
            }
            s += "  // shared with base (\(overflow ? "overflow" : formatBytes(total)))"
        }
        return s
    }

    /// One op without indentation or newline: `%r = kind operands {attrs} : type`.
    public static func opLine(_ op: Op) -> String {
        var s = ""
        if let r = op.result { s += "%\(r) = " }
        s += op.kind.rawValue
        if !op.operands.isEmpty { s += " " + op.operands.map(\.description).joined(separator: ", ") }
        if !op.attributes.isEmpty { s += " " + attributeDict(op.attributes) }
        if let t = op.type { s += " : \(t)" }
        return s
    }

    /// `{a = 1, b = "x"}`.
    public static func attributeDict(_ attrs: [NamedAttribute]) -> String {
        "{" + attrs.map { "\($0.name) = \(attribute($0.value))" }.joined(separator: ", ") + "}"
    }

    /// One attribute value in its textual form.
    public static func attribute(_ a: Attribute) -> String {
        switch a {
        case .int(let v): return String(v)
        case .float(let v): return doubleLiteral(v)
        case .string(let s): return quoted(s)
        case .ident(let s): return s
        case .list(let l): return "[" + l.map(attribute).joined(separator: ", ") + "]"
        }
    }

    /// Shortest round-trip text of a double that always reads back as a float (has '.' or 'e').
    /// Non-finite values print as `0x` and their 16 hex bit digits (MLIR's convention), which the
    /// lexer reads back as a float with exactly those bits.
    static func doubleLiteral(_ v: Double) -> String {
        guard v.isFinite else {
            let hex = String(v.bitPattern, radix: 16, uppercase: true)
            return "0x" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex
        }
        let d = v.description
        if d.contains(".") || d.contains("e") { return d }
        return d + ".0"
    }

    /// Shortest round-trip text of a float32 element.
    static func floatLiteral(_ v: Float) -> String {
        let d = v.description
        if !v.isFinite || d.contains(".") || d.contains("e") { return d }
        return d + ".0"
    }

    /// A double-quoted string with `\" \\ \n \t \r` escaped and other control characters as `\u{XX}`.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if ch.value < 0x20 || ch.value == 0x7F { out += "\\u{\(String(ch.value, radix: 16))}" }
                else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }

    /// Human size of `elementSize * prod(shape)` bytes: `512 B`, `4.0 KiB`, `1.5 MiB`.
    static func byteSize(_ elementSize: Int, _ shape: [Int]) -> String {
        var n = elementSize
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return "overflow" }
            n = p
        }
        return formatBytes(n)
    }

    /// Human size of a byte count with one decimal above 1 KiB.
    public static func formatBytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var unit = 0
        var scale = 1024
        while unit + 1 < units.count, n / scale >= 1024 { scale *= 1024; unit += 1 }
        // one decimal, rounded half up, in integer arithmetic
        let tenths = (n / scale) * 10 + ((n % scale) * 10 + scale / 2) / scale
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
    /// Product of the dims, or nil when a dim is negative or the product overflows.
    public static func safeElementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }
}
