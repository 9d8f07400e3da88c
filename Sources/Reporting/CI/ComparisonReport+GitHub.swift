import Foundation

extension ComparisonReport {
    /// GitHub Actions workflow commands for this report: an `::error` per failing check (or per
    /// regression against a baseline) and a `::warning` per finding of severity warning, each
    /// attached to B's path, which is the file under test (relative to the working directory when
    /// it lies under it, as GitHub links it; an absolute path would leak the runner's layout).
    public func githubAnnotations(limit: Int = 50, workingDirectory: String = FileManager.default.currentDirectoryPath) -> [String] {
        var lines: [String] = []
        let file = GitHubCommand.relative(inputs.b.path, to: workingDirectory)
        if let baseline {
            for (name, changes) in baseline.regressionsBySubject.prefix(limit) {
                let kinds = changes.map(\.kind).joined(separator: ", ")
                let message = changes.count == 1 ? changes[0].message : "\(name): " + changes.map { change in
                    change.message.hasPrefix(name + ": ") ? String(change.message.dropFirst(name.count + 2)) : change.message
                }.joined(separator: "; ")
                lines.append(GitHubCommand.annotation("error", file: file, title: "ckdiff regression (\(kinds))", message: message))
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
    /// `path` relative to `directory` when it lies under it (`/w/repo/models/b.safetensors` under
    /// `/w/repo` is `models/b.safetensors`), else `path` unchanged.
    public static func relative(_ path: String, to directory: String) -> String {
        guard path.hasPrefix("/"), !directory.isEmpty else { return path }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(base) && path.count > base.count ? String(path.dropFirst(base.count)) : path
    }

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
