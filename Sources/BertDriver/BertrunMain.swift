/// `bertrun`: tokenizes text and runs a compiled artifact.
public enum BertrunMain {
    public static func run(_ args: [String]) -> Int32 {
        if args.first != "bench" && args.contains("--verify") { return VerifyCommand.run(args.filter { $0 != "--verify" }) }
        return Console.exitCode(tool: "bertrun") {
            if args.first == "bench" { try BenchCommand.run(Array(args.dropFirst())) } else { try RunCommand.run(args) }
        }
    }
}
