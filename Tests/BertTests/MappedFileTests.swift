import BertIR
import Foundation
import XCTest

/// MappedFile's map: small pages only, so that touching one byte of a file the page cache holds in 2 MiB folios does
/// not make the whole folio resident (8 masked MiniLM tasks went from 109 to 147 MB of peak RSS that way).
final class MappedFileTests: XCTestCase {
    func testMapIsMarkedNoHugePage() throws {
        #if os(Linux)
        let path = NSTemporaryDirectory() + "bertc-mapped-\(getpid()).bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 3 << 20)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try MappedFile(path: path)
        let start = UInt(bitPattern: file.bytes(0..<1).baseAddress)
        // /proc files report size 0, so read to the end rather than by the file's size.
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var inMap = false, flags: String?
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            if let range = fields.first, let dash = range.firstIndex(of: "-"), let lo = UInt(range[..<dash], radix: 16),
               let hi = UInt(range[range.index(after: dash)...], radix: 16) {
                inMap = lo <= start && start < hi
            } else if inMap, line.hasPrefix("VmFlags:") {
                flags = String(line)
            }
        }
        let found = try XCTUnwrap(flags, "no VMA at the map's address in /proc/self/smaps")
        XCTAssertTrue(found.split(separator: " ").contains("nh"), found)
        withExtendedLifetime(file) {}
        #endif
    }
}
