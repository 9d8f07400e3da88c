import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Named pipes for the tests that check a reader refuses a FIFO instead of waiting on it.
public enum FIFO {
    /// Makes a FIFO at `path` (mode 0600); throws if it cannot.
    ///
    /// The corresponding C function is `mkfifo`.
    public static func make(at path: String) throws {
        guard mkfifo(path, 0o600) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mkfifo \(path) failed: errno \(errno)"])
        }
    }

    /// Runs `body`, which may open the FIFO at `path` for reading, and returns whether it returned
    /// by itself, without anyone opening the FIFO's other end.
    ///
    /// A reader that blocks on the FIFO would hang the test run; this watchdog waits up to
    /// `patience` for `body`, then opens the FIFO for writing and closes it (the blocked reader then
    /// sees end of file and returns) and answers false. The wait is a hang detector, not a speed
    /// requirement: a reader that does not block returns at once.
    public static func returnsWithoutWriter(_ path: String, patience: Double = 20, _ body: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        if done.wait(timeout: .now() + patience) == .success { return true }
        // Unblock the reader: a non-blocking open for writing succeeds once a reader waits.
        for _ in 0..<100 {
            let fd = open(path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 {
                close(fd)
                break
            }
            usleep(10_000)
        }
        done.wait()
        return false
    }
}
