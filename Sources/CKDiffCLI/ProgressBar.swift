import Foundation
import Reporting

/// A progress line on standard error, shown only on a terminal and only once work has run over a second.
final class ProgressBar: @unchecked Sendable {
    private let console: Console
    private let lock = NSLock()
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    private init(console: Console) {
        self.console = console
    }

    /// A progress bar when the console's standard error is a terminal, else nil.
    static func forStandardError(of console: Console) -> ProgressBar? {
        console.errorIsTerminal ? ProgressBar(console: console) : nil
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
        console.writeError(text)
    }

    /// Clears the line if anything was drawn.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { console.writeError("\r\u{1B}[K") }
    }
}

extension ComparisonRun {
    /// Runs the comparison with a progress bar on `console`'s standard error when it is a terminal.
    func run(showingProgressOn console: Console) throws -> (report: ComparisonReport, seconds: Double) {
        guard let bar = ProgressBar.forStandardError(of: console) else { return try run() }
        var run = self
        run.progress = { done, total in bar.update(done, of: total) }
        defer { bar.finish() }
        return try run.run()
    }
}
