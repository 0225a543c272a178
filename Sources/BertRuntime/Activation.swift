/// A float32 activation tensor owned by the engine while a batch runs.
public final class Activation: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    init(shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func copy() -> Activation {
        let a = Activation(shape: shape)
        a.pointer.update(from: pointer, count: count)
        return a
    }

    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// The named outputs of one batch.
public struct Outputs: @unchecked Sendable {
    public let batch: Batch
    public let values: [String: Activation]

    /// Row `b` of an output whose first dimension is the batch, e.g. logits [B, L] -> [L].
    public func row(_ name: String, _ b: Int) -> [Float]? {
        guard let a = values[name], let first = a.shape.first, first > 0 else { return nil }
        let per = a.count / first
        return Array(a.buffer[(b * per)..<((b + 1) * per)])
    }
}
