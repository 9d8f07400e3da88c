import Foundation

/// The committed regression corpus of one fuzz target (`Tests/Fixtures/fuzz-regressions/<target>`),
/// which the replay suites feed through the readers the way the target does.
public struct FuzzCorpus: Sendable {
    /// The folder holding the inputs.
    public let folder: String
    /// The inputs' file names, sorted (empty when the folder is missing; the suites check the count).
    public let names: [String]

    public init(_ target: String) {
        folder = Fixtures.path("fuzz-regressions/\(target)")
        names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// The bytes of one input.
    public func bytes(_ name: String) throws -> [UInt8] {
        try Array(Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
    }
}
