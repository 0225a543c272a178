import BertDriver
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

Interrupts.install()
exit(BertrunMain.run(Array(CommandLine.arguments.dropFirst())))
