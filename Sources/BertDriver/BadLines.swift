/// A line of an input file that could not be used: its 1-based number and the fault.
struct BadLine: Error {
    var line: Int
    var fault: String
    var text: String { "line \(line): \(fault)" }
}

/// How `bertrun --skip-bad-lines` reports the lines it left out: one warning per line on stderr,
/// the first `maxWarnings` of them, then how many more.
enum BadLines {
    static let maxWarnings = 20

    static func warn(_ bad: [BadLine], file: String) {
        for b in bad.prefix(maxWarnings) { Console.err("bertrun: warning: \(file): \(Console.oneLine(b.text))\n") }
        if bad.count > maxWarnings {
            Console.err("bertrun: warning: \(file): \(bad.count - maxWarnings) more bad lines not shown\n")
        }
    }
}
