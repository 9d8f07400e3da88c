import Foundation
import Reporting

extension Console {
    /// Writes a report to `path`, or to this console's standard output when `path` is `-`.
    ///
    /// Files go through ``ReportWriter`` (a temporary file and a rename, never over an input).
    func writeReport(_ data: Data, to path: String, protecting inputs: ProtectedInputs) throws {
        if path == "-" {
            try write(data)
        } else {
            try ReportWriter.write(data, to: path, protecting: inputs)
        }
    }
}
