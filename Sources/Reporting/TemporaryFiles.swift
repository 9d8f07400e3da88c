import Foundation

/// The temporary report files being written right now, so that an interrupted run can remove them.
///
/// ``ReportWriter`` registers each `.NAME.ckdiff-UUID.tmp` file while it writes it. The executable
/// removes whatever is registered when SIGINT or SIGTERM arrives (see `CKDiffCLI`'s signal handling)
/// before it exits.
public final class TemporaryFiles: @unchecked Sendable {
    /// The process-wide registry.
    public static let shared = TemporaryFiles()

    private let lock = NSLock()
    private var paths: Set<String> = []

    /// Registers `path` as being written.
    func add(_ path: String) {
        lock.lock()
        paths.insert(path)
        lock.unlock()
    }

    /// Forgets `path` (renamed into place or removed).
    func remove(_ path: String) {
        lock.lock()
        paths.remove(path)
        lock.unlock()
    }

    /// Removes every registered file; returns how many were removed.
    @discardableResult
    public func removeAll() -> Int {
        lock.lock()
        let pending = paths
        paths.removeAll()
        lock.unlock()
        var removed = 0
        for path in pending where unlink(path) == 0 { removed += 1 }
        return removed
    }
}
