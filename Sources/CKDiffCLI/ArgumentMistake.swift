import Foundation

/// Command lines that ArgumentParser would accept or misread, caught before it sees them.
///
/// `compare` is the default subcommand, so `ckdiff inspec x` would compare a file named `inspec`
/// with `x` and say "no such file"; `ckdiff help nonsense` would print the main help and exit 0;
/// `ckdiff` alone would print the whole help as an error.
struct ArgumentMistake: CustomStringConvertible {
    var description: String

    /// The subcommands, as typed.
    static let commands = ["compare", "inspect", "map", "batch", "policy", "show", "help"]

    /// The mistake in `arguments` (without the program name), if there is one of these kinds.
    static func find(in arguments: [String], fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        -> ArgumentMistake? {
        guard let first = arguments.first else {
            return ArgumentMistake(description: "no checkpoints given: 'ckdiff A B' compares checkpoint B with A (see 'ckdiff --help')")
        }
        if first == "help", arguments.count > 1, !commands.contains(arguments[1]) {
            return ArgumentMistake(description: "no such command '\(arguments[1])' (commands: \(commands.joined(separator: ", ")))")
        }
        // A word that is not a file and is one or two edits from a command was meant as that command.
        if !first.hasPrefix("-"), !commands.contains(first), !first.contains("/"), !first.contains("."),
           !fileExists(first), let near = commands.first(where: { editDistance(first, $0) <= 2 }) {
            return ArgumentMistake(description: "no such command or file '\(first)' (did you mean '\(near)'?)")
        }
        return nil
    }

    /// The Levenshtein distance between two short words.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
