import CKDiffJSON
import Foundation

extension ComparisonReport {
    /// The report as JSON text: sorted keys, two-space indentation, no NaN or infinity literals.
    public func jsonData() throws -> Data {
        try ReportJSON.encode(self)
    }

    /// Reads a report back from JSON.
    public static func decode(_ data: Data) throws -> ComparisonReport {
        try JSONDecoder().decode(ComparisonReport.self, from: data)
    }
}

extension ComparisonReport.TensorEntry: JSONConcurrentlyEncodable {}
