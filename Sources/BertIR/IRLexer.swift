/// The tokenizer of the textual IR: turns text into `IRToken`s with line/column positions.
///
/// Tokens: `@name` and `%name` (names of [A-Za-z0-9_.-]), bare identifiers, integers, floats
/// (a number with `.` or an exponent; `0x` followed by 16 hex digits is a float given by its bits),
/// "strings" with `\" \\ \n \t \r \u{..}` escapes, and the punctuation `{ } [ ] , : = < >`.
/// `//` starts a comment that runs to the end of the line. The lexer never traps on any input.

/// One lexical token.
public enum IRTokenKind: Equatable, Sendable {
    case at(String)
    case percent(String)
    case ident(String)
    /// A number; `raw` is the exact source text (used to parse literals without double rounding).
    case int(Int, raw: String)
    case float(Double, raw: String)
    case string(String)
    case punct(Character)
    case eof

    /// How the token is named in "expected ..., got ..." messages.
    public var display: String {
        switch self {
        case .at(let s): return "'@\(s)'"
        case .percent(let s): return "'%\(s)'"
        case .ident(let s): return "'\(s)'"
        case .int(_, let raw), .float(_, let raw): return "'\(raw)'"
        case .string: return "string"
        case .punct(let c): return "'\(c)'"
        case .eof: return "end of input"
        }
    }
}

public struct IRToken: Sendable {
    public var kind: IRTokenKind
    public var line: Int
    public var column: Int
}

/// Splits IR text into tokens.
public struct IRLexer {
    private let bytes: [UInt8]
    private let file: String
    private var pos = 0
    private var line = 1
    private var lineStart = 0

    public init(_ text: String, file: String = "<input>") {
        self.bytes = Array(text.utf8); self.file = file
    }

    /// True for bytes allowed in `@`/`%` names.
    public static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2E || b == 0x2D
    }
    static func isIdentStart(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// True when `s` prints as a valid `@`/`%` name.
    public static func isValidName(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy(isNameByte) }
    /// True when `s` prints as a valid bare identifier.
    public static func isValidIdent(_ s: String) -> Bool {
        guard let f = s.utf8.first, isIdentStart(f) else { return false }
        return s.utf8.allSatisfy(isNameByte)
    }

    private func error(_ msg: String, _ l: Int, _ c: Int) -> BertError { BertError(file, "line \(l):\(c): \(msg)") }

    /// All tokens, ending with `.eof`.
    public mutating func tokenize() throws -> [IRToken] {
        var out: [IRToken] = []
        while true {
            let t = try next()
            out.append(t)
            if t.kind == .eof { return out }
        }
    }

    private mutating func skipTrivia() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x0A { pos += 1; line += 1; lineStart = pos }
            else if b == 0x20 || b == 0x09 || b == 0x0D { pos += 1 }
            else if b == 0x2F, pos + 1 < bytes.count, bytes[pos + 1] == 0x2F {
                while pos < bytes.count && bytes[pos] != 0x0A { pos += 1 }
            } else { return }
        }
    }

    private mutating func next() throws -> IRToken {
        skipTrivia()
        let l = line, c = pos - lineStart + 1
        func tok(_ k: IRTokenKind) -> IRToken { IRToken(kind: k, line: l, column: c) }
        guard pos < bytes.count else { return tok(.eof) }
        let b = bytes[pos]
        switch b {
        case 0x40, 0x25: // @ %
            pos += 1
            let start = pos
            while pos < bytes.count && IRLexer.isNameByte(bytes[pos]) { pos += 1 }
            guard pos > start else {
                throw error("expected a name after '\(b == 0x40 ? "@" : "%")'", l, c)
            }
            let name = String(decoding: bytes[start..<pos], as: UTF8.self)
            return tok(b == 0x40 ? .at(name) : .percent(name))
        case 0x22:
            return tok(.string(try lexString(l, c)))
        case 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x3D, 0x3C, 0x3E:
            pos += 1
            return tok(.punct(Character(Unicode.Scalar(b))))
        default:
            if IRLexer.isIdentStart(b) {
                let start = pos
                while pos < bytes.count && IRLexer.isNameByte(bytes[pos]) { pos += 1 }
                return tok(.ident(String(decoding: bytes[start..<pos], as: UTF8.self)))
            }
            if IRLexer.isDigit(b) || b == 0x2D || b == 0x2B {
                return tok(try lexNumber(l, c))
            }
            let shown = b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
            throw error("unexpected character \(shown)", l, c)
        }
    }

    private mutating func lexNumber(_ l: Int, _ c: Int) throws -> IRTokenKind {
        let start = pos
        if bytes[pos] == 0x2D || bytes[pos] == 0x2B { pos += 1 }
        // -inf / +inf (only meaningful inside dense literals)
        if pos + 3 <= bytes.count,
           bytes[pos] == 0x69, bytes[pos + 1] == 0x6E, bytes[pos + 2] == 0x66 {
            pos += 3
            let raw = String(decoding: bytes[start..<pos], as: UTF8.self)
            return .float(raw.hasPrefix("-") ? -Double.infinity : Double.infinity, raw: raw)
        }
        guard pos < bytes.count, IRLexer.isDigit(bytes[pos]) else {
            throw error("expected a digit after sign", l, c)
        }
        // Hexadecimal float bits: 0x followed by hex digits.
        if bytes[pos] == 0x30, pos + 1 < bytes.count, bytes[pos + 1] == 0x78 || bytes[pos + 1] == 0x58 {
            pos += 2
            let hs = pos
            while pos < bytes.count, isHex(bytes[pos]) { pos += 1 }
            let hex = String(decoding: bytes[hs..<pos], as: UTF8.self)
            let raw = String(decoding: bytes[start..<pos], as: UTF8.self)
            guard bytes[start] != 0x2D && bytes[start] != 0x2B, hex.count == 16, let bits = UInt64(hex, radix: 16) else {
                throw error("expected 16 hex digits in float literal '\(raw)'", l, c)
            }
            return .float(Double(bitPattern: bits), raw: raw)
        }
        var isFloat = false
        while pos < bytes.count, IRLexer.isDigit(bytes[pos]) { pos += 1 }
        if pos < bytes.count, bytes[pos] == 0x2E {
            isFloat = true; pos += 1
            while pos < bytes.count, IRLexer.isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == 0x65 || bytes[pos] == 0x45 {
            isFloat = true; pos += 1
            if pos < bytes.count, bytes[pos] == 0x2D || bytes[pos] == 0x2B { pos += 1 }
            let es = pos
            while pos < bytes.count, IRLexer.isDigit(bytes[pos]) { pos += 1 }
            guard pos > es else {
                throw error("expected exponent digits in '\(String(decoding: bytes[start..<pos], as: UTF8.self))'", l, c)
            }
        }
        if pos < bytes.count, IRLexer.isNameByte(bytes[pos]) {
            throw error("malformed number '\(String(decoding: bytes[start...pos], as: UTF8.self))'", l, c)
        }
        let raw = String(decoding: bytes[start..<pos], as: UTF8.self)
        if isFloat {
            guard let d = Double(raw) else { throw error("malformed float '\(raw)'", l, c) }
            return .float(d, raw: raw)
        }
        guard let i = Int(raw) else { throw error("integer '\(raw)' out of range", l, c) }
        return .int(i, raw: raw)
    }

    private func isHex(_ b: UInt8) -> Bool {
        IRLexer.isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    private mutating func lexString(_ l: Int, _ c: Int) throws -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error("unterminated string", l, c) }
            let b = bytes[pos]
            if b == 0x0A { throw error("unterminated string", l, c) }
            if b == 0x22 { pos += 1; break }
            if b == 0x5C {
                guard pos + 1 < bytes.count else { throw error("unterminated string", l, c) }
                let e = bytes[pos + 1]
                pos += 2
                switch e {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x6E: out.append(0x0A)
                case 0x74: out.append(0x09)
                case 0x72: out.append(0x0D)
                case 0x75: // \u{HEX}
                    guard pos < bytes.count, bytes[pos] == 0x7B else { throw error("expected '{' after \\u in string", line, pos - lineStart + 1) }
                    pos += 1
                    let hs = pos
                    while pos < bytes.count, isHex(bytes[pos]), pos - hs < 8 { pos += 1 }
                    guard pos < bytes.count, bytes[pos] == 0x7D, pos > hs,
                          let v = UInt32(String(decoding: bytes[hs..<pos], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(v) else {
                        throw error("malformed \\u{...} escape in string", line, pos - lineStart + 1)
                    }
                    pos += 1
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw error("unknown escape '\\\(Character(Unicode.Scalar(e)))' in string", line, pos - lineStart - 1)
                }
                continue
            }
            out.append(b); pos += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
