#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells artifacts from checkpoints by their first eight bytes ("BERTCART").
enum ArtifactProbe {
    static func isArtifact(_ path: String) -> Bool {
        guard let f = fopen(path, "rb") else { return false }
        defer { fclose(f) }
        var magic = [UInt8](repeating: 0, count: 8)
        guard fread(&magic, 1, 8, f) == 8 else { return false }
        return magic == Array("BERTCART".utf8)
    }
}
