/// An attribute value on an op or tensor declaration.
public enum Attribute: Hashable, Sendable {
    case int(Int)
    case float(Double)
    case string(String)
    /// A bare identifier such as `dense` or `mean`.
    case ident(String)
    case list([Attribute])

    public var intValue: Int? { if case .int(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var stringValue: String? {
        switch self {
        case .string(let s), .ident(let s): return s
        default: return nil
        }
    }
}

public struct NamedAttribute: Hashable, Sendable {
    public var name: String
    public var value: Attribute
    public init(_ name: String, _ value: Attribute) { self.name = name; self.value = value }
}

extension Array where Element == NamedAttribute {
    public subscript(attr name: String) -> Attribute? {
        first(where: { $0.name == name })?.value
    }
}
