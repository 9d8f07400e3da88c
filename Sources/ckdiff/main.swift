import CKDiffCLI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Everything lives in the CKDiffCLI library; the executable only hands it the process.
SignalCleanup.install()
exit(CKDiffCLI.run(Array(CommandLine.arguments.dropFirst()), console: .process()))
