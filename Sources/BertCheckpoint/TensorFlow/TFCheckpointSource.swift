/// The `WeightSource` for TensorFlow checkpoints (`PREFIX.index` + data shards, as written by Google's
/// BERT run_pretraining.py / run_classifier.py): every bundle entry is bounds- and CRC-checked; float32,
/// float16 and bfloat16 model weights are imported under their canonical names (dense kernels
/// transposed from [in, out] to [out, in]); optimizer slots, global_step and pretraining heads are
/// skipped with a reason (`RawTensors.skipped[name]`), other dtypes are skipped by dtype name.
import BertIR
import CBertKernels
import Foundation

public struct TFCheckpointSource: WeightSource {
    /// The `.index` file.
    public let path: String
    public var format: String { "tf-checkpoint" }
    public init(path: String) { self.path = path }

    public func readTensors() throws -> RawTensors {
        let bundle = try TensorBundle(indexPath: path)
        var out = RawTensors(format: format)
        out.sourceBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var shardsCounted = Set<Int>()
        var fromName: [String: String] = [:]
        for e in bundle.entries {
            // Every entry is checked, skipped or not: a corrupt bundle is refused as a whole.
            let (map, bytes) = try bundle.data(of: e)
            if shardsCounted.insert(e.shardID).inserted { out.sourceBytes += map.size }
            if let reason = TFNames.skipReason(e.name) {
                out.skipped[e.name] = reason
                continue
            }
            let (canon, transposed) = TFNames.canonical(e.name)
            guard e.dtype.isImportedFloat else {
                out.skipped[canon] = e.dtype.description
                continue
            }
            if let other = fromName[canon] {
                throw BertError(path, "tensors '\(other)' and '\(e.name)' both map to '\(canon)'")
            }
            fromName[canon] = e.name
            var buf = Self.floats(e, bytes, owner: map)
            if transposed {
                guard e.shape.count == 2 else {
                    throw BertError(path, "tensor '\(e.name)': a kernel must have 2 dimensions, not shape \(e.shape)")
                }
                buf = Self.transpose(buf)
            }
            out.tensors[canon] = buf
            out.origin[canon] = map.path
        }
        return out
    }

    /// The entry's elements as float32 (zero-copy for aligned DT_FLOAT, else a widened copy).
    static func floats(_ e: BundleEntry, _ raw: UnsafeRawBufferPointer, owner: MappedFile) -> TensorBuffer {
        let n = e.elementCount
        if e.dtype == .float, n > 0, let src = raw.baseAddress, Int(bitPattern: src) % 4 == 0 {
            return TensorBuffer(shape: e.shape, pointer: src.assumingMemoryBound(to: Float.self), owner: owner)
        }
        let owned = OwnedFloats(count: n)
        if n > 0, let src = raw.baseAddress {
            if e.dtype == .float {
                UnsafeMutableRawPointer(owned.pointer).copyMemory(from: src, byteCount: raw.count)
            } else {
                let tmp = UnsafeMutableRawPointer.allocate(byteCount: raw.count, alignment: 16)
                defer { tmp.deallocate() }
                tmp.copyMemory(from: src, byteCount: raw.count)
                let p = UnsafePointer(tmp.bindMemory(to: UInt16.self, capacity: n))
                if e.dtype == .half { bk_f16_to_f32(p, owned.pointer, n) } else { bk_bf16_to_f32(p, owned.pointer, n) }
            }
        }
        return TensorBuffer(shape: e.shape, pointer: UnsafePointer(owned.pointer), owner: owned)
    }

    /// [rows, cols] -> [cols, rows].
    static func transpose(_ b: TensorBuffer) -> TensorBuffer {
        let rows = b.shape[0], cols = b.shape[1]
        let owned = OwnedFloats(count: rows * cols)
        let src = b.pointer, dst = owned.pointer
        for r in 0..<rows {
            for c in 0..<cols { dst[c * rows + r] = src[r * cols + c] }
        }
        return TensorBuffer(shape: [cols, rows], pointer: UnsafePointer(dst), owner: owned)
    }

    /// A one-line account of what was skipped, e.g. "skipped 78 optimizer slots, 1 training step counter".
    public static func skippedSummary(_ raw: RawTensors) -> String {
        var counts: [String: Int] = [:]
        for (_, why) in raw.skipped { counts[why, default: 0] += 1 }
        if counts.isEmpty { return "nothing skipped" }
        return "skipped " + counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
    }
}
