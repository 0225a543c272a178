import BertIR

/// A small command-line parser in the shape of swift-argument-parser: declared options with help
/// text, `--help`, one-line errors and distinct exit codes (64 for usage errors, as EX_USAGE).
public struct OptionSpec: Sendable {
    public var names: [String]          // e.g. ["-o", "--output"]
    public var valueName: String?       // nil: a flag
    public var help: String
    public var repeats: Bool

    public init(_ names: [String], value: String? = nil, help: String, repeats: Bool = false) {
        self.names = names; self.valueName = value; self.help = help; self.repeats = repeats
    }
    var key: String { names.last! }
}

public struct CommandSpec: Sendable {
    public var name: String
    public var abstract: String
    public var usage: String
    public var options: [OptionSpec]
    public var discussion: String = ""

    /// The help text printed for `--help`.
    public var help: String {
        var out = "OVERVIEW: \(abstract)\n\nUSAGE: \(usage)\n\nOPTIONS:\n"
        let rows = options.map { o -> (String, String) in
            let n = o.names.joined(separator: ", ") + (o.valueName.map { " <\($0)>" } ?? "")
            return (n, o.help)
        } + [("-h, --help", "Show help information.")]
        let width = rows.map(\.0.count).max() ?? 0
        for (n, h) in rows { out += "  " + n.padding(toLength: width + 2, withPad: " ", startingAt: 0) + h + "\n" }
        if !discussion.isEmpty { out += "\n" + discussion + "\n" }
        return out
    }
}

/// Thrown for bad command lines; the CLI prints it and exits with 64.
public struct UsageError: Error, CustomStringConvertible {
    public var message: String
    public var command: String
    public var description: String { "\(message) (see '\(command) --help')" }
}

/// Thrown when `--help` is given.
public struct HelpRequested: Error { public var text: String }

public struct ParsedArguments {
    public var positionals: [String] = []
    var values: [String: [String]] = [:]
    var flags: Set<String> = []

    public func value(_ key: String) -> String? { values[key]?.last }
    public func all(_ key: String) -> [String] { values[key] ?? [] }
    public func flag(_ key: String) -> Bool { flags.contains(key) }

    /// An integer option within `range`, or a usage error naming it.
    public func int(_ key: String, in range: ClosedRange<Int>, command: String) throws -> Int? {
        guard let s = value(key) else { return nil }
        guard let v = Int(s), range.contains(v) else {
            throw UsageError(message: "\(key) expects an integer in \(range.lowerBound)...\(range.upperBound), got '\(s)'",
                             command: command)
        }
        return v
    }
}

extension CommandSpec {
    public func parse(_ args: [String]) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" { parsed.positionals.append(a); continue }
            if a == "--" { onlyPositionals = true; continue }
            if a == "-h" || a == "--help" { throw HelpRequested(text: help) }
            var name = a
            var inline: String?
            if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") {
                name = String(a[..<eq]); inline = String(a[a.index(after: eq)...])
            }
            guard let spec = options.first(where: { $0.names.contains(name) }) else {
                throw UsageError(message: "unknown option '\(name)'", command: self.name)
            }
            if spec.valueName == nil {
                if inline != nil { throw UsageError(message: "option '\(name)' takes no value", command: self.name) }
                parsed.flags.insert(spec.key)
                continue
            }
            let v: String
            if let inline { v = inline } else {
                guard i < args.count else {
                    throw UsageError(message: "missing value for '\(name) <\(spec.valueName!)>'", command: self.name)
                }
                v = args[i]; i += 1
            }
            if !spec.repeats, parsed.values[spec.key] != nil {
                throw UsageError(message: "option '\(name)' given more than once", command: self.name)
            }
            parsed.values[spec.key, default: []].append(v)
        }
        return parsed
    }
}
