import ArgumentParser
import Checkpoints
import Foundation

/// `ckdiff map --arch sdxl --from sgm --to diffusers [--json]`: the key mapping between two layouts.
struct Map: ConsoleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the key mapping between two layouts of a model family.",
        discussion: """
            One line per canonical tensor, tab-separated: source key, target key, transform \
            (identity, reshape, transpose), component, canonical key. A fused OpenCLIP q/k/v \
            tensor appears once per part, written KEY[i/3]; a key one layout lacks is '-'.
            """)

    @Option(help: "Model family: sd1, sd2, sdxl (base) or sdxl_refiner.")
    var arch: String

    @Option(help: "Source layout: diffusers, ldm, sgm or kohya.")
    var from: String

    @Option(help: "Target layout (diffusers: the canonical keys).")
    var to: String = "diffusers"

    @Flag(help: "Add the EMA copies of the UNet (model_ema.* ⇄ unet_ema/).")
    var ema = false

    @Flag(help: "Write the table as JSON.")
    var json = false

    func validate() throws {
        if ModelFamily(name: arch) == nil {
            throw ValidationError("unknown --arch '\(arch)': use sd1, sd2, sdxl or sdxl_refiner")
        }
        for (option, value) in [("--from", from), ("--to", to)] where Layout(name: value) == nil {
            throw ValidationError("unknown \(option) '\(value)': use diffusers, ldm, sgm or kohya")
        }
    }

    func execute(in console: Console) throws -> ExitCode {
        guard let family = ModelFamily(name: arch), let source = Layout(name: from), let target = Layout(name: to) else {
            return ExitStatus.trouble
        }
        let table = MappingTable.make(family: family, from: source, to: target, includeEMA: ema)
        var text = json ? try Map.json(table) : Map.text(table)
        if !text.hasSuffix("\n") { text += "\n" }
        try console.write(text)
        return ExitStatus.same
    }

    /// The tab-separated form.
    static func text(_ table: MappingTable) -> String {
        func key(_ key: String?, _ rows: RowPart?) -> String {
            guard let key else { return "-" }
            return rows.map { "\(key)[\($0)]" } ?? key
        }
        return table.rows.map { row in
            [key(row.source, row.sourceRows), key(row.target, row.targetRows), row.transform.rawValue,
             row.component.rawValue, row.canonical].joined(separator: "\t")
        }.joined(separator: "\n")
    }

    /// The JSON form: the family, both layouts and the rows.
    static func json(_ table: MappingTable) throws -> String {
        struct Document: Encodable {
            var architecture: String
            var from: String
            var to: String
            var rows: [MappingTable.Row]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(Document(architecture: table.family.rawValue, from: table.from.rawValue,
                                               to: table.to.rawValue, rows: table.rows))
        return String(decoding: data, as: UTF8.self)
    }
}
