import CBertKernels

/// Owns a persistent worker pool of the C kernel library for the engine's lifetime.
final class KernelPool {
    let raw: OpaquePointer?
    let threads: Int

    init(threads: Int) {
        self.threads = max(1, threads)
        raw = self.threads > 1 ? bk_pool_create(Int32(self.threads)) : nil
    }

    deinit { if let raw { bk_pool_destroy(raw) } }
}
