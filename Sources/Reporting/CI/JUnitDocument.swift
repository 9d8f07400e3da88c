import Foundation

/// A JUnit XML document as CI servers read it (Jenkins, GitLab, Azure, the Ant/Jenkins schemas).
///
/// Written to satisfy the strictest common schema, Ant's `JUnit.xsd` (windyroad): every
/// `testsuite` inside `testsuites` has `name`, `package`, `id`, `timestamp` (no time zone),
/// `hostname`, `tests`, `failures`, `errors` and `time`, and holds `properties`, its
/// `testcase`s, `system-out` and `system-err` in that order; every `testcase` has `name`,
/// `classname` and `time`, and at most one `failure` or `error`, each with `type` and `message`.
/// `testsuites` carries no attribute (Ant declares none). A `failure` is a check that found a difference; an `error` is trouble (the check could not run).
public struct JUnitDocument: Sendable {
    public var name: String
    public var suites: [Suite]

    public init(name: String, suites: [Suite]) {
        self.name = name
        self.suites = suites
    }

    public struct Suite: Sendable {
        public var name: String
        public var package: String
        public var cases: [Case]
        /// Free text for people (findings, known differences).
        public var systemOut: String
        public var time: Double

        public init(name: String, package: String, cases: [Case], systemOut: String = "", time: Double = 0) {
            self.name = name
            self.package = package
            self.cases = cases
            self.systemOut = systemOut
            self.time = time
        }
    }

    public struct Case: Sendable {
        public enum Outcome: Sendable {
            case passed
            /// The check found a difference.
            case failure(type: String, message: String, details: String)
            /// The check could not run (trouble).
            case error(type: String, message: String, details: String)
        }

        public var name: String
        public var classname: String
        public var outcome: Outcome

        public init(name: String, classname: String, outcome: Outcome) {
            self.name = name
            self.classname = classname
            self.outcome = outcome
        }
    }

    /// The XML text.
    ///
    /// - Parameters:
    ///   - timestamp: When the checks ran.
    ///   - hostname: The machine (`localhost` when empty).
    public func xml(timestamp: Date = Date(), hostname: String = ProcessInfo.processInfo.hostName) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let stamp = formatter.string(from: timestamp)
        let host = hostname.trimmingCharacters(in: .whitespaces).isEmpty ? "localhost" : hostname
        func counts(_ cases: [Case]) -> (failures: Int, errors: Int) {
            var failures = 0, errors = 0
            for c in cases {
                switch c.outcome {
                case .passed: break
                case .failure: failures += 1
                case .error: errors += 1
                }
            }
            return (failures, errors)
        }
        let all = suites.flatMap(\.cases)
        let total = counts(all)
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        // Ant's schema declares no attribute on <testsuites>; the totals go in a comment for people.
        lines.append("<!-- \(escape(name, attribute: false).replacingOccurrences(of: "--", with: "- -")): \(all.count) checks, \(total.failures) failures, \(total.errors) errors -->")
        lines.append("<testsuites>")
        for (id, suite) in suites.enumerated() {
            let c = counts(suite.cases)
            lines.append("  <testsuite name=\"\(escape(suite.name))\" package=\"\(escape(suite.package))\" id=\"\(id)\" timestamp=\"\(stamp)\" hostname=\"\(escape(host))\" tests=\"\(suite.cases.count)\" failures=\"\(c.failures)\" errors=\"\(c.errors)\" time=\"\(seconds(suite.time))\">")
            lines.append("    <properties/>")
            for testcase in suite.cases {
                let head = "    <testcase name=\"\(escape(testcase.name))\" classname=\"\(escape(testcase.classname))\" time=\"0\""
                switch testcase.outcome {
                case .passed:
                    lines.append(head + "/>")
                case .failure(let type, let message, let details), .error(let type, let message, let details):
                    let element: String
                    if case .failure = testcase.outcome { element = "failure" } else { element = "error" }
                    lines.append(head + ">")
                    lines.append("      <\(element) type=\"\(escape(type))\" message=\"\(escape(message))\">\(escape(details, attribute: false))</\(element)>")
                    lines.append("    </testcase>")
                }
            }
            lines.append("    <system-out>\(escape(suite.systemOut, attribute: false))</system-out>")
            lines.append("    <system-err/>")
            lines.append("  </testsuite>")
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    private func seconds(_ value: Double) -> String {
        String(format: "%.3f", max(0, value))
    }

    /// XML-escapes text; control characters XML 1.0 forbids are dropped, and in attributes line breaks are kept as references.
    private func escape(_ text: String, attribute: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "\n" where attribute: out += "&#10;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
