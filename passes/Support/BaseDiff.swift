/// Bitwise comparison of a task tensor against the base model's tensor of the same shape, shared by
/// `eliminate-zeros` (base plus zeros becomes a mask) and `sparse-delta` (a few changed entries).
import BertIR

/// How a tensor differs from its base, entry by entry, comparing bit patterns.
struct BaseDiff: Equatable {
    /// Number of entries.
    var count: Int
    /// Entries that are +0.0 here but not bitwise +0.0 in the base (what a mask records).
    var zeroed: Int
    /// Entries that differ bitwise from the base in any other way.
    var otherChanged: Int
    /// Entries that are not equal to 0 here (neither +0.0 nor -0.0).
    var nonzero: Int

    /// Entries that differ bitwise from the base.
    var changed: Int { zeroed + otherChanged }
    /// True when the tensor is exactly the base with at least one entry set to +0.0.
    var isBasePlusZeros: Bool { otherChanged == 0 && zeroed > 0 }

    /// Compares `mine` with `base`; nil when their shapes differ.
    init?(_ mine: TensorBuffer, base: TensorBuffer) {
        guard mine.shape == base.shape, mine.count == base.count else { return nil }
        count = mine.count; zeroed = 0; otherChanged = 0; nonzero = 0
        let a = mine.buffer, b = base.buffer
        for i in 0..<count {
            let x = a[i].bitPattern, y = b[i].bitPattern
            if a[i] != 0 { nonzero += 1 }
            if x == y { continue }
            if x == 0 { zeroed += 1 } else { otherChanged += 1 }
        }
    }
}

extension TensorBuffer {
    /// Number of entries equal to zero (+0.0 or -0.0).
    var zeroCount: Int {
        var n = 0
        for v in buffer where v == 0 { n += 1 }
        return n
    }
}

extension TensorDecl {
    /// Sets attribute `name`, replacing an existing one in place or appending it.
    mutating func setAttribute(_ name: String, _ value: Attribute) {
        if let i = attributes.firstIndex(where: { $0.name == name }) {
            attributes[i].value = value
        } else {
            attributes.append(NamedAttribute(name, value))
        }
    }

    /// Removes every attribute called `name`.
    mutating func removeAttribute(_ name: String) {
        attributes.removeAll { $0.name == name }
    }
}
