import Foundation

extension InspectReport {
    /// The report as JSON text: sorted keys, two-space indentation, a final newline.
    public func jsonData() throws -> Data {
        try ReportJSON.encode(self)
    }

    /// Reads a report back from JSON.
    public static func decode(_ data: Data) throws -> InspectReport {
        try JSONDecoder().decode(InspectReport.self, from: data)
    }
}
