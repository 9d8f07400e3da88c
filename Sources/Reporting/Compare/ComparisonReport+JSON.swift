import Foundation

extension ComparisonReport {
    /// The report as JSON text: sorted keys, two-space indentation, no NaN or infinity literals.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }

    /// Reads a report back from JSON.
    public static func decode(_ data: Data) throws -> ComparisonReport {
        try JSONDecoder().decode(ComparisonReport.self, from: data)
    }
}
