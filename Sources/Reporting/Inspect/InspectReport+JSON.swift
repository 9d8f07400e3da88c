import Foundation

extension InspectReport {
    /// The report as JSON text: sorted keys, two-space indentation, a final newline.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }

    /// Reads a report back from JSON.
    public static func decode(_ data: Data) throws -> InspectReport {
        try JSONDecoder().decode(InspectReport.self, from: data)
    }
}
