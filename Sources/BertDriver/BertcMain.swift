/// `bertc`: the compiler driver. Subcommands: compile, dump, analyze.
public enum BertcMain {
    static let overview = """
    OVERVIEW: bertc compiles fine-tuned or masked BERT checkpoints into compact artifacts.

    USAGE: bertc <subcommand> [options]

    SUBCOMMANDS:
      compile   Compile a checkpoint to an artifact (bertc compile MODEL [--base BASE] -o task.bin)
      dump      Print the IR of a checkpoint or artifact with each tensor's storage and size
      analyze   Measure how far a fine-tuned checkpoint moved from its base (bertc analyze MODEL --base BASE)

      See 'bertc <subcommand> --help' for the options of each.

    """

    public static func run(_ args: [String]) -> Int32 {
        guard let sub = args.first, !sub.hasPrefix("-") else {
            if args.first == "--help" || args.first == "-h" { Console.out(overview); return 0 }
            Console.err("bertc: error: missing subcommand (see 'bertc --help')\n")
            return 64
        }
        let rest = Array(args.dropFirst())
        switch sub {
        case "compile": return Console.exitCode(tool: "bertc") { try CompileCommand.run(rest) }
        case "dump": return Console.exitCode(tool: "bertc") { try DumpCommand.run(rest) }
        case "analyze": return Console.exitCode(tool: "bertc") { try AnalyzeCommand.run(rest) }
        case "help": Console.out(overview); return 0
        default:
            Console.err("bertc: error: unknown subcommand '\(sub)' (see 'bertc --help')\n")
            return 64
        }
    }
}
