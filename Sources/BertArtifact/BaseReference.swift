/// `BaseReference` (which base model an artifact's shared tensors come from) and
/// `BaseFingerprint` (the hash that identifies a base's weights).
import BertIR
import CBertKernels

/// The base model an artifact with `shared` tensors must be loaded against.
public struct BaseReference: Codable, Hashable, Sendable {
    /// Path of the base model as given at compile time.
    public var path: String
    /// `BaseFingerprint.compute` of the base's weights: 16 lowercase hex digits.
    public var fingerprint: String
    /// The base's source format ("safetensors", ...).
    public var format: String

    public init(path: String, fingerprint: String, format: String) {
        self.path = path; self.fingerprint = fingerprint; self.format = format
    }

    /// True when `fingerprint` is exactly 16 hex digits.
    public var hasValidFingerprint: Bool {
        fingerprint.utf8.count == 16 && fingerprint.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70)
        }
    }
}

/// Identifies a set of weights: bk_hash64 chained over the tensors in sorted name order.
/// For each tensor the hash of the previous step is the seed for its name bytes, then its
/// shape (u64 count, u64 dims, little-endian), then its float bytes.
public enum BaseFingerprint {
    public static func compute(_ weights: WeightStore) -> String {
        var h: UInt64 = 0
        for name in weights.names {
            guard let t = weights[name] else { continue }
            var nameBytes = Array(name.utf8)
            h = nameBytes.withUnsafeMutableBytes { bk_hash64($0.baseAddress, $0.count, h) }
            var shape: [UInt64] = [UInt64(t.shape.count).littleEndian] + t.shape.map { UInt64($0).littleEndian }
            h = shape.withUnsafeMutableBytes { bk_hash64($0.baseAddress, $0.count, h) }
            // A mapped tensor's pages are handed back as they are hashed (they are re-read on use).
            h = t.owner is MappedFile ? bk_hash64_mapped(UnsafeRawPointer(t.pointer), t.byteCount, h)
                                      : bk_hash64(UnsafeRawPointer(t.pointer), t.byteCount, h)
        }
        return hex16(h)
    }

    /// `v` as 16 lowercase hex digits.
    public static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
