import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes every byte of `data` to the open descriptor `fd`, retrying short and interrupted writes.
///
/// - Returns: nil when everything was written, else the system's reason (`No space left on
///   device`, `Broken pipe`, …). Used for standard output and for devices and FIFOs, where a
///   failed write must be an error, not a trap.
package func writeAll(_ data: Data, to fd: Int32) -> String? {
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String? in
        guard var pointer = raw.baseAddress else { return nil }
        var left = raw.count
        while left > 0 {
            let written = write(fd, pointer, left)
            if written < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            if written == 0 { return "nothing could be written" }
            left -= written
            pointer += written
        }
        return nil
    }
}
