/// Float32 data of one weight tensor. Either points into a memory-mapped file (no copy) or owns
/// an aligned allocation. `owner` keeps the backing memory alive.
public struct TensorBuffer: @unchecked Sendable {
    public let shape: [Int]
    public let pointer: UnsafePointer<Float>
    public let count: Int
    public let owner: AnyObject

    public init(shape: [Int], pointer: UnsafePointer<Float>, owner: AnyObject) {
        self.shape = shape; self.pointer = pointer; self.count = shape.reduce(1, *); self.owner = owner
    }

    /// A buffer owning a copy of `values`.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count)
        let storage = OwnedFloats(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { storage.pointer.update(from: b, count: values.count) }
        }
        self.init(shape: shape, pointer: UnsafePointer(storage.pointer), owner: storage)
    }

    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }
    public var byteCount: Int { count * 4 }

    /// True when both tensors have the same shape and the same bytes.
    public func bitwiseEqual(_ other: TensorBuffer) -> Bool {
        shape == other.shape && (pointer == other.pointer || memcmp(pointer, other.pointer, byteCount) == 0)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An aligned, owned float allocation.
public final class OwnedFloats: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// The weight data behind a module's tensors, by name.
public final class WeightStore: @unchecked Sendable {
    public private(set) var tensors: [String: TensorBuffer] = [:]
    public init() {}
    public subscript(name: String) -> TensorBuffer? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }
    public var names: [String] { tensors.keys.sorted() }
}
