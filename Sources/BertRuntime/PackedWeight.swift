import BertIR
import BertSparse
import CBertKernels

/// A dense [N, K] linear weight laid out once in the kernels' panel order (bk_pack_weights), so no
/// GEMM call repacks it. The source buffer is read once; when it lies in a memory-mapped file its pages
/// are then handed back to the kernel, so the process keeps one copy of the weights, not two.
public final class PackedWeight: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    let pointer: UnsafeMutablePointer<Float>
    private let byteCount: Int

    init(_ t: TensorBuffer, pool: OpaquePointer?) throws {
        guard t.shape.count == 2, t.shape[0] > 0, t.shape[1] > 0 else {
            throw BertError("linear weight has shape \(t.shape), expected [out, in]")
        }
        rows = t.shape[0]; cols = t.shape[1]
        let count = Int(bk_packed_floats(Int64(cols), Int64(rows)))
        guard count > 0 else { throw BertError("linear weight \(t.shape) is too large to pack") }
        guard let raw = bk_alloc_weights(count * 4) else {
            throw BertError("out of memory packing a \(t.shape) linear weight")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: count)
        byteCount = count * 4
        do {
            try check(bk_pack_weights(pool, t.pointer, nil, Int64(cols), Int64(rows), pointer), "pack weights")
        } catch {
            bk_free_weights(raw, count * 4)
            throw error
        }
        if let file = t.owner as? MappedFile { file.release(UnsafeRawPointer(t.pointer), count: t.byteCount) }
    }

    deinit { bk_free_weights(pointer, byteCount) }
}

/// A masked task's zeroed entries in the panel order of its base's `PackedWeight` (bk_pack_mask): the
/// micro-kernels load the base's panels through it, so the base is shared and never copied per task.
public final class PackedMask: @unchecked Sendable {
    /// bk_packed_mask_words words, owned; stable for the mask's lifetime so a call can hold several at once.
    let pointer: UnsafeMutablePointer<UInt32>

    init(_ zeroed: Bitmap, rows: Int, cols: Int, pool: OpaquePointer?) throws {
        guard zeroed.n == rows * cols else {
            throw BertError("mask has \(zeroed.n) bits for a [\(rows), \(cols)] weight")
        }
        let count = Int(bk_packed_mask_words(Int64(cols), Int64(rows)))
        guard count > 0 else { throw BertError("mask for a [\(rows), \(cols)] weight is too large to pack") }
        let words = UnsafeMutablePointer<UInt32>.allocate(capacity: count)
        do {
            try zeroed.words.withUnsafeBufferPointer { bits in
                try check(bk_pack_mask(pool, bits.baseAddress, Int64(cols), Int64(rows), words), "pack mask")
            }
        } catch {
            words.deallocate()
            throw error
        }
        pointer = words
    }

    deinit { pointer.deallocate() }
}

/// Packed weights of mapped tensors by source address, so tasks over one base share its packed linear
/// layers. An entry keeps its source's map alive, so the address cannot be reused by other data while the
/// entry exists; tensors in memory the process owns (materialised masks, deltas) are packed per engine.
public final class WeightPacker: @unchecked Sendable {
    private var packed: [UnsafePointer<Float>: (weight: PackedWeight, source: MappedFile)] = [:]
    public init() {}

    func packed(_ t: TensorBuffer, pool: OpaquePointer?) throws -> PackedWeight {
        guard let file = t.owner as? MappedFile else { return try PackedWeight(t, pool: pool) }
        if let hit = packed[t.pointer], hit.source === file, hit.weight.rows == t.shape.first,
           hit.weight.cols == t.shape.last {
            return hit.weight
        }
        let p = try PackedWeight(t, pool: pool)
        packed[t.pointer] = (p, file)
        return p
    }
}
