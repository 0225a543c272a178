/// The one error type every reader, pass and tool reports. The CLI prints it as a single line:
/// `bertc: error: FILE: MESSAGE` and exits non-zero.
public struct BertError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the fault is in (empty when none applies).
    public var file: String
    public var message: String

    public init(_ file: String, _ message: String) { self.file = file; self.message = message }
    public init(_ message: String) { self.file = ""; self.message = message }

    public var description: String { file.isEmpty ? message : "\(file): \(message)" }
}
