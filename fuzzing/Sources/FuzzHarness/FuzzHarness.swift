/// The body of every fuzz target: runs one input through `FuzzEntry` and turns anything but acceptance
/// or a clean `BertError` into a crash that libFuzzer records.
import BertDriver
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum FuzzHarness {
    nonisolated(unsafe) static var scratch: String?

    public static func testOneInput(_ target: String, _ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let dir = scratch ?? setUp()
        let bytes = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
        do {
            _ = try FuzzEntry.run(target, bytes, scratch: dir)
        } catch {
            fatalError("\(target): reader threw a non-BertError: \(String(reflecting: error))")
        }
        return 0
    }

    /// Makes the scratch directory (removed at exit); BERTC_FUZZ_TF_SHARD, if set, becomes the tfindex
    /// target's data shard there.
    static func setUp() -> String {
        let dir = FuzzEntry.makeScratch()
        scratch = dir
        if let shard = ProcessInfo.processInfo.environment["BERTC_FUZZ_TF_SHARD"] {
            _ = symlink(shard, dir + "/model.ckpt.data-00000-of-00001")
        }
        atexit {
            if let d = FuzzHarness.scratch { try? FileManager.default.removeItem(atPath: d) }
        }
        return dir
    }
}
