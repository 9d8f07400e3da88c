import Foundation

/// A progress line on standard error, shown only on a terminal and only once work has run over a second.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    /// A progress bar when standard error is a terminal, else nil.
    static func forStandardError() -> ProgressBar? {
        isatty(2) == 1 ? ProgressBar() : nil
    }

    /// Records progress; redraws at most ten times a second.
    func update(_ done: Int64, of total: Int64) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(start) > 1, now.timeIntervalSince(lastDraw) > 0.1, total > 0 else { return }
        lastDraw = now
        drawn = true
        let fraction = Double(done) / Double(total)
        let width = 30
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let text = String(format: "\r[%@] %3d%%  %.1f / %.1f GB", bar, Int(fraction * 100), Double(done) / 1e9, Double(total) / 1e9)
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Clears the line if anything was drawn.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
