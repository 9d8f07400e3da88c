import Dispatch
import Reporting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes half-written report files when the process is interrupted (SIGINT, SIGTERM, SIGHUP).
///
/// The signals are taken off their default action and delivered to a dispatch source, so the
/// cleanup runs on an ordinary thread (no async-signal-safety limits); it unlinks every
/// ``TemporaryFiles`` entry, then restores the default action and raises the signal again, so the
/// process ends as the signal says (status 128 + N to a shell).
public enum SignalCleanup {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Installs the handlers; the executable calls this once, before any work.
    public static func install() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                TemporaryFiles.shared.removeAll()
                signal(number, SIG_DFL)
                raise(number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
