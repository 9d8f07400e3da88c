import Foundation

extension ComparisonReport {
    /// GitHub Actions workflow commands for this report: an `::error` per failing check (or per
    /// regression against a baseline) and a `::warning` per finding of severity warning, each
    /// attached to B's path, which is the file under test.
    public func githubAnnotations(limit: Int = 50) -> [String] {
        var lines: [String] = []
        let file = inputs.b.path
        if let baseline {
            for change in baseline.regressions.prefix(limit) {
                lines.append(GitHubCommand.annotation("error", file: file, title: "ckdiff regression (\(change.kind))", message: change.message))
            }
        } else {
            for check in gate.triggered.prefix(limit) {
                let names = check.offenders.prefix(5).joined(separator: ", ") + (check.offenders.count > 5 ? ", …" : "")
                lines.append(GitHubCommand.annotation("error", file: file, title: "ckdiff \(check.category) (\(componentName(check.component)))",
                                                      message: "\(check.offenders.count) found: \(names)"))
            }
        }
        for finding in findings where finding.severity == .warning {
            lines.append(GitHubCommand.annotation("warning", file: file, title: "ckdiff finding \(finding.kind)", message: finding.message))
        }
        return lines
    }
}

/// GitHub Actions workflow commands (`::error file=…,title=…::message`).
public enum GitHubCommand {
    /// One annotation line; properties and message escaped as the runner expects.
    public static func annotation(_ level: String, file: String?, title: String, message: String) -> String {
        var properties: [String] = []
        if let file { properties.append("file=\(escapeProperty(file))") }
        properties.append("title=\(escapeProperty(title))")
        return "::\(level) \(properties.joined(separator: ","))::\(escapeData(message))"
    }

    static func escapeData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}
