import BertArtifact
import BertIR
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where bertrun's lines go: stdout as they come, or a file that appears only when complete.
final class OutputSink {
    private let path: String?
    private var pending: [UInt8] = []

    init(path: String?) throws { self.path = path }

    func write(_ s: String) throws {
        if path == nil { Console.out(s) } else { pending.append(contentsOf: s.utf8) }
    }

    func finish() throws {
        guard let path else { return }
        let bytes = pending
        _ = try AtomicFile.write(to: path) { out in try out.write(bytes) }
    }
}
