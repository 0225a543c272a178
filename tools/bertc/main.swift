import BertDriver
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(BertcMain.run(Array(CommandLine.arguments.dropFirst())))
