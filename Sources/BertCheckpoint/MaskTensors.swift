/// Masks carried as tensors beside the weights, applied at import (before lowering), so the passes see the
/// masked weight with exact zeros in place and `eliminate-zeros` can store it as base plus mask:
/// - torch.nn.utils.prune: `NAME_orig` + `NAME_mask` (float 0/1) -> `NAME` = orig where mask is 1, +0.0 where 0;
/// - `NAME.mask` or `NAME_mask` (uint8/bool/int/float 0/1) beside `NAME`: `NAME` zeroed where the mask is 0;
/// - movement pruning: `MODULE.mask_scores` beside `MODULE.weight`: entries whose score > threshold are kept,
///   the rest zeroed (threshold 0.0 by default, i.e. sigmoid(score) > 0.5).
/// The mask tensors are dropped afterwards. A mask whose shape differs from its weight's, a mask value other
/// than 0/1, an `_orig` without its `_mask` and a mask without its weight are errors naming the file.
import BertIR
import Foundation

public enum MaskTensors {
    /// True for names that may hold a mask, so integer/bool tensors under them are kept for `apply`.
    public static func looksLikeMask(_ name: String) -> Bool {
        name.hasSuffix(".mask") || name.hasSuffix("_mask") || name.hasSuffix(".mask_scores")
    }

    /// Applies every mask tensor of `raw` to its weight and removes the masks. `file` names the checkpoint
    /// in errors when a tensor's own file is unknown. Does nothing when there are no mask tensors.
    public static func apply(to raw: inout RawTensors, file: String, threshold: Float = 0.0) throws {
        // 1. torch.nn.utils.prune: NAME_orig + NAME_mask.
        for origName in raw.tensors.keys.sorted() where origName.hasSuffix("_orig") {
            let target = String(origName.dropLast("_orig".count))
            let maskName = target + "_mask"
            let where_ = raw.origin[origName] ?? file
            guard let orig = raw.tensors[origName] else { continue }
            guard let mask = try maskValues(raw, maskName, file: file) else {
                throw BertError(where_, "pruned tensor '\(origName)' has no mask '\(maskName)'")
            }
            if raw.tensors[target] != nil {
                throw BertError(where_, "tensor '\(target)' appears beside its pruned original '\(origName)'")
            }
            raw.tensors[target] = try masked(orig, by: mask, weightName: origName, maskName: maskName,
                                             file: raw.origin[maskName] ?? where_)
            raw.origin[target] = where_
            remove(&raw, origName)
            remove(&raw, maskName)
        }
        // 2. NAME.mask / NAME_mask beside NAME.
        let maskNames = Set(raw.tensors.keys).union(raw.integerMasks.keys)
            .filter { $0.hasSuffix(".mask") || $0.hasSuffix("_mask") }.sorted()
        for maskName in maskNames {
            let target = String(maskName.dropLast(5))
            let where_ = raw.origin[maskName] ?? file
            guard let weight = raw.tensors[target] else {
                throw BertError(where_, "mask '\(maskName)' has no tensor '\(target)' to apply to")
            }
            guard let mask = try maskValues(raw, maskName, file: file) else { continue }
            raw.tensors[target] = try masked(weight, by: mask, weightName: target, maskName: maskName, file: where_)
            remove(&raw, maskName)
        }
        // 3. Movement pruning: MODULE.mask_scores beside MODULE.weight.
        for scoresName in raw.tensors.keys.sorted() where scoresName.hasSuffix(".mask_scores") {
            let target = String(scoresName.dropLast(".mask_scores".count)) + ".weight"
            let where_ = raw.origin[scoresName] ?? file
            guard let weight = raw.tensors[target], let scores = raw.tensors[scoresName] else {
                throw BertError(where_, "mask scores '\(scoresName)' have no weight '\(target)' to apply to")
            }
            guard scores.shape == weight.shape else {
                throw BertError(where_, "mask scores '\(scoresName)' have shape \(scores.shape) but '\(target)' has shape \(weight.shape)")
            }
            var keep = [UInt8](repeating: 0, count: scores.count)
            for i in 0..<scores.count where scores.pointer[i] > threshold { keep[i] = 1 }
            raw.tensors[target] = try masked(weight, by: MaskValues(shape: scores.shape, keep: keep),
                                             weightName: target, maskName: scoresName, file: where_)
            remove(&raw, scoresName)
        }
        // Integer tensors that look like masks but matched no weight.
        if let stray = raw.integerMasks.keys.sorted().first {
            throw BertError(raw.origin[stray] ?? file, "mask '\(stray)' has no tensor to apply to")
        }
    }

    /// A mask as shape plus one byte per entry: 0 (zero the entry), 1 (keep it), 2 (neither: an error).
    struct MaskValues {
        var shape: [Int]
        var keep: [UInt8]
    }

    /// The mask under `name`, float or integer; nil when there is none.
    static func maskValues(_ raw: RawTensors, _ name: String, file: String) throws -> MaskValues? {
        if let m = raw.integerMasks[name] { return MaskValues(shape: m.shape, keep: m.values) }
        guard let t = raw.tensors[name] else { return nil }
        var keep = [UInt8](repeating: 2, count: t.count)
        for i in 0..<t.count {
            let v = t.pointer[i]
            if v == 0 { keep[i] = 0 } else if v == 1 { keep[i] = 1 }
        }
        return MaskValues(shape: t.shape, keep: keep)
    }

    /// `weight` with +0.0 where the mask is 0 and its own bits where the mask is 1.
    static func masked(_ weight: TensorBuffer, by mask: MaskValues, weightName: String, maskName: String,
                       file: String) throws -> TensorBuffer {
        guard mask.shape == weight.shape, mask.keep.count == weight.count else {
            throw BertError(file, "mask '\(maskName)' has shape \(mask.shape) but '\(weightName)' has shape \(weight.shape)")
        }
        if let bad = mask.keep.firstIndex(where: { $0 > 1 }) {
            throw BertError(file, "mask '\(maskName)' has a value other than 0/1 at flat index \(bad)")
        }
        let out = OwnedFloats(count: weight.count)  // zero-initialised: +0.0 wherever the mask is 0
        for i in 0..<weight.count where mask.keep[i] == 1 { out.pointer[i] = weight.pointer[i] }
        return TensorBuffer(shape: weight.shape, pointer: UnsafePointer(out.pointer), owner: out)
    }

    static func remove(_ raw: inout RawTensors, _ name: String) {
        raw.tensors[name] = nil
        raw.integerMasks[name] = nil
        raw.skipped[name] = nil
        raw.origin[name] = nil
    }
}
