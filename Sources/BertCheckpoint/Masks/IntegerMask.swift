/// Integer and boolean mask tensors (uint8, bool, int8..int64, uint16..uint64) read from a checkpoint and kept
/// beside the float tensors in `RawTensors.integerMasks`, so `MaskTensors.apply` can use them. Values are
/// narrowed to one byte each: 0 and 1 stay, anything else becomes 2 (reported as "a value other than 0/1").
import BertIR
import Foundation

/// One integer/bool mask tensor: its shape and one byte per element (0, 1, or 2 for any other value).
public struct IntegerMask: Sendable, Equatable {
    public var shape: [Int]
    public var values: [UInt8]
    public init(shape: [Int], values: [UInt8]) { self.shape = shape; self.values = values }
}

extension SafetensorsFile {
    /// The mask data of an integer or bool entry, or nil for other element types. Reads exactly the
    /// entry's bytes, which the header parser already checked lie inside the file.
    public func integerMask(_ e: SafetensorsEntry) -> IntegerMask? {
        let size: Int
        switch e.dtype {
        case .u8, .bool, .i8: size = 1
        case .u16, .i16: size = 2
        case .u32, .i32: size = 4
        case .u64, .i64: size = 8
        default: return nil
        }
        guard e.end - e.begin == e.elementCount * size else { return nil }
        let raw = map.bytes((dataStart + e.begin)..<(dataStart + e.end))
        var values = [UInt8](repeating: 0, count: e.elementCount)
        for i in 0..<e.elementCount {
            var nonzeroHigh = false
            for b in 1..<size where raw[i * size + b] != 0 { nonzeroHigh = true }
            let low = raw[i * size]
            values[i] = nonzeroHigh || low > 1 ? 2 : low
        }
        return IntegerMask(shape: e.shape, values: values)
    }
}
