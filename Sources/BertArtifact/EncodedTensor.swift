import BertIR
import BertSparse

/// A tensor an artifact stores encoded rather than as dense values, decoded and validated at load.
public enum EncodedTensor: @unchecked Sendable {
    /// The base's tensor with these positions set to zero.
    case mask(Bitmap)
    /// The tensor's own values in compressed sparse rows (a view into the mapped artifact).
    case csr(CSRView)
    /// The base's tensor with these positions changed to these values.
    case delta(SparseDelta)

    /// Checks a blob as `decode` does, without allocating from the shape (CSR views are checked in place).
    static func validate(encoding: UInt8, blob: UnsafeRawBufferPointer, shape: [Int], file: String) throws {
        let count = shape.reduce(1, *)
        switch encoding {
        case ArtifactFormat.encodingMask:
            try MaskEncoding.validate(blob, count: count, file: file)
        case ArtifactFormat.encodingCSR:
            _ = try decode(encoding: encoding, blob: blob, shape: shape, file: file)
        case ArtifactFormat.encodingDelta:
            try SparseDelta.validate(bytes: blob, count: count, file: file)
        default:
            throw BertError(file, "unknown encoding \(encoding)")
        }
    }

    static func decode(encoding: UInt8, blob: UnsafeRawBufferPointer, shape: [Int], file: String) throws -> EncodedTensor {
        let count = shape.reduce(1, *)
        switch encoding {
        case ArtifactFormat.encodingMask:
            return .mask(try MaskEncoding.decode(blob, count: count, file: file))
        case ArtifactFormat.encodingCSR:
            guard shape.count == 2 else { throw BertError(file, "a csr tensor must be 2-D, not \(shape)") }
            return .csr(try CSRView(bytes: blob, rows: shape[0], cols: shape[1], file: file))
        case ArtifactFormat.encodingDelta:
            return .delta(try SparseDelta(bytes: blob, count: count, file: file))
        default:
            throw BertError(file, "unknown encoding \(encoding)")
        }
    }

    /// Bytes the encoding occupies in the artifact is not kept here; this names the kind for dumps.
    public var kind: String {
        switch self {
        case .mask: return "mask"
        case .csr: return "csr"
        case .delta: return "delta"
        }
    }
}
