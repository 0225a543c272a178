import BertArtifact

/// Signal handling for the command-line tools: an interrupted `bertc compile -o X` or
/// `bertrun --output X` leaves neither X nor its temp file (see `AtomicFile`).
public enum Interrupts {
    /// Installs the SIGINT/SIGTERM/SIGHUP handler; the tools' mains call it first.
    public static func install() { AtomicFile.removeTempFilesOnInterrupt() }
}
