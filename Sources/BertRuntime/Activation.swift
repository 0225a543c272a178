#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A float32 activation tensor owned by the engine while a batch runs. Its memory comes from the
/// engine's `BufferRecycler` and goes back to it when the activation is released, so a forward pass
/// reuses the buffers of the values that died before it instead of asking malloc (and the kernel) anew.
public final class Activation: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    private let recycler: BufferRecycler?

    init(shape: [Int], recycler: BufferRecycler? = nil) {
        self.shape = shape
        self.recycler = recycler
        count = shape.reduce(1, *)
        let bytes = max(count, 1) * 4
        let raw = recycler?.take(bytes: bytes) ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func copy() -> Activation {
        let a = Activation(shape: shape, recycler: recycler)
        a.pointer.update(from: pointer, count: count)
        return a
    }

    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

    deinit {
        if let recycler { recycler.give(UnsafeMutableRawPointer(pointer), bytes: max(count, 1) * 4) }
        else { UnsafeMutableRawPointer(pointer).deallocate() }
    }
}

/// Freed activation buffers by size class (at most `perSize` of each, `limit` bytes in all),
/// handed out again to later activations of the same size. Thread-safe; engines serving several tasks in
/// one process share one, so the cache does not grow with the number of tasks.
public final class BufferRecycler: @unchecked Sendable {
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cached = 0
    private var lock = pthread_mutex_t()
    private let perSize = 4
    private let limit = 64 << 20

    public init() { pthread_mutex_init(&lock, nil) }

    /// Buffers come in size classes (four per power of two), so batches of other lengths reuse them.
    static func sizeClass(_ bytes: Int) -> Int {
        let b = max(bytes, 256)
        let top = Int.bitWidth - 1 - (b - 1).leadingZeroBitCount  // 2^top < b <= 2^(top+1)
        let step = 1 << max(top - 2, 0)
        return (b + step - 1) / step * step
    }

    func take(bytes: Int) -> UnsafeMutableRawPointer {
        let size = BufferRecycler.sizeClass(bytes)
        pthread_mutex_lock(&lock)
        if let p = free[size]?.popLast() {
            cached -= size
            pthread_mutex_unlock(&lock)
            return p
        }
        pthread_mutex_unlock(&lock)
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    func give(_ p: UnsafeMutableRawPointer, bytes: Int) {
        let size = BufferRecycler.sizeClass(bytes)
        pthread_mutex_lock(&lock)
        if free[size, default: []].count < perSize, cached + size <= limit {
            free[size, default: []].append(p)
            cached += size
            pthread_mutex_unlock(&lock)
            return
        }
        pthread_mutex_unlock(&lock)
        p.deallocate()
    }

    deinit {
        for list in free.values { for p in list { p.deallocate() } }
        pthread_mutex_destroy(&lock)
    }
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
