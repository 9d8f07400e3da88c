/// `inspect --json` as it was written before it took a file: `--json` alone means standard output.
///
/// `inspect` takes `--json FILE` like `compare` and `batch`; earlier versions took `--json` as a
/// flag, and `ckdiff inspect --json model.safetensors` must not turn the checkpoint into the
/// output's name. So a bare `--json` whose next argument is missing, is another option, or does not
/// end in `.json` is read as `--json -` (standard output); `--json=FILE` is always a file.
enum JSONFlagSpelling {
    /// The subcommands whose `--json` used to be a flag.
    static let formerFlags: Set<String> = ["inspect"]

    /// `arguments` with `-` inserted after each bare `--json` that names no file.
    static func normalised(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, formerFlags.contains(command) else { return arguments }
        var out: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            out.append(argument)
            if argument == "--" {
                out += arguments[(index + 1)...]
                break
            }
            if argument == "--json" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                let namesFile = next.map { $0 == "-" || (!$0.hasPrefix("-") && $0.hasSuffix(".json")) } ?? false
                if !namesFile { out.append("-") }
            }
            index += 1
        }
        return out
    }
}
