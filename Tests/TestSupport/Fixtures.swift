import Foundation

/// Locations of the committed test fixtures and scratch space for tests.
public enum Fixtures {
    /// `Tests/Fixtures`, found from this source file so tests run from any working directory.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The path of a fixture, relative to `Tests/Fixtures`.
    public static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    /// A new empty directory under the system's temporary directory.
    public static func temporaryDirectory(_ label: String = "ckdiff-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
