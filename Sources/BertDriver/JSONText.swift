/// Minimal JSON writing for bertrun's output lines (numbers as shortest round-trip floats).
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) }
                else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func number(_ x: Float) -> String { x.isFinite ? x.description : "null" }

    static func array(_ v: [Float]) -> String { "[" + v.map(number).joined(separator: ",") + "]" }
}
