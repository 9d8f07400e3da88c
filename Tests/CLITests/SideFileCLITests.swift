import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// Side inputs (policy, baseline, manifest, saved report, a diffusers folder's JSON files) that are
/// not regular files, too large, or hold hostile values (issue 20, second round).
@Suite("ckdiff side files: FIFOs, devices, sizes and hostile fields")
struct SideFileCLITests {
    static let model = Fixtures.path("ckpt/dtypes.safetensors")

    /// One outcome handed from the thread that ran the command line.
    final class OutcomeBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: CLIRunner.Outcome?
        func set(_ outcome: CLIRunner.Outcome) { lock.withLock { value = outcome } }
        func get() -> CLIRunner.Outcome? { lock.withLock { value } }
    }

    /// Runs `arguments` with a watchdog on the FIFO at `fifo`; expects that it returned by itself
    /// with exit 2 and one printable line containing `phrase`.
    func expectRefused(_ arguments: [String], fifo: String? = nil, phrase: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let box = OutcomeBox()
        let body: @Sendable () -> Void = {
            if let outcome = try? CLIRunner.run(arguments) { box.set(outcome) }
        }
        if let fifo {
            #expect(FIFO.returnsWithoutWriter(fifo, body), "blocked on the FIFO \(fifo)", sourceLocation: sourceLocation)
        } else {
            body()
        }
        guard let outcome = box.get() else {
            Issue.record("no outcome", sourceLocation: sourceLocation)
            return
        }
        #expect(outcome.status == 2, "\(outcome.status): \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr.contains(phrase), "\(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(!outcome.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F },
                "\(outcome.stderr.debugDescription)", sourceLocation: sourceLocation)
    }

    func scratch() throws -> URL { try Fixtures.temporaryDirectory("ckdiff-sidefile") }

    @Test("a FIFO as --policy, --baseline, batch manifest or show report: exit 2 at once, 'is a FIFO'", arguments: [
        "policy", "baseline", "manifest", "show",
    ])
    func fifoSideFile(_ role: String) throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("\(role).json").path
        try FIFO.make(at: fifo)
        let arguments: [String]
        switch role {
        case "policy": arguments = [Self.model, Self.model, "--policy", fifo]
        case "baseline": arguments = [Self.model, Self.model, "--baseline", fifo]
        case "manifest": arguments = ["batch", fifo]
        default: arguments = ["show", fifo]
        }
        expectRefused(arguments, fifo: fifo, phrase: "is a FIFO (named pipe), not a regular file")
    }

    @Test("a device as --policy or show report is refused as a device, not read forever", arguments: ["policy", "show"])
    func deviceSideFile(_ role: String) {
        let arguments = role == "policy" ? [Self.model, Self.model, "--policy", "/dev/zero"] : ["show", "/dev/zero"]
        expectRefused(arguments, phrase: "is a character device, not a regular file")
    }

    @Test("a policy above 1 MiB and a report above 32 MiB are refused by size before they are read")
    func oversized() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        func sparse(_ name: String, _ size: UInt64) throws -> String {
            let path = folder.appendingPathComponent(name).path
            _ = FileManager.default.createFile(atPath: path, contents: Data("{".utf8))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: size)
            try handle.close()
            return path
        }
        let policy = try sparse("policy.json", 6_900_000_000)
        expectRefused([Self.model, Self.model, "--policy", policy],
                      phrase: "is 6900000000 bytes, above the 1048576-byte limit for a policy file")
        let report = try sparse("report.json", (32 << 20) + 1)
        expectRefused(["show", report], phrase: "above the 33554432-byte limit for a report")
        let manifest = try sparse("batch.json", (1 << 20) + 1)
        expectRefused(["batch", manifest], phrase: "above the 1048576-byte limit for a batch manifest")
        let baseline = try sparse("baseline.json", (32 << 20) + 1)
        expectRefused([Self.model, Self.model, "--baseline", baseline], phrase: "above the 33554432-byte limit for a baseline")
    }

    @Test("a FIFO named model_index.json is refused at once naming it; a FIFO config.json is skipped, not waited on")
    func fifoInFolder() throws {
        for name in ["model_index.json", "unet/config.json"] {
            let folder = try scratch()
            defer { try? FileManager.default.removeItem(at: folder) }
            let unet = folder.appendingPathComponent("unet")
            try FileManager.default.createDirectory(at: unet, withIntermediateDirectories: true)
            try SafetensorsWriter.write([.f32("x", [2], [1, 2])], to: unet.appendingPathComponent("diffusion_pytorch_model.safetensors").path)
            if name != "model_index.json" {
                try Data(#"{"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"]}"#.utf8)
                    .write(to: folder.appendingPathComponent("model_index.json"))
            }
            let fifo = folder.appendingPathComponent(name).path
            try FIFO.make(at: fifo)
            if name == "model_index.json" {
                expectRefused(["inspect", folder.path], fifo: fifo, phrase: "\(fifo): is a FIFO (named pipe), not a regular file")
            } else {
                let box = OutcomeBox()
                #expect(FIFO.returnsWithoutWriter(fifo) { if let outcome = try? CLIRunner.run(["inspect", folder.path]) { box.set(outcome) } })
                #expect(box.get()?.status == 0, "\(box.get()?.stderr ?? "")")
            }
        }
    }

    // MARK: Saved reports

    /// A saved report of the model against itself with `summary.exit_code` replaced by `exitCode` (a JSON literal).
    func report(exitCode: String, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("report.json").path
        let outcome = try CLIRunner.run([Self.model, Self.model, "--json", path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "\"exit_code\" : 0", with: "\"exit_code\" : \(exitCode)")
        #expect(edited != text)
        try Data(edited.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("show of a report whose exit code is not 0, 1 or 2: exit 2 with one line, no trap", arguments: [
        ("2147483648", "2147483648"), ("7", "summary.exit_code is 7"), ("-1", "summary.exit_code is -1"),
        ("9223372036854775808", "out of range"), ("1e400", "not a ckdiff report"),
    ])
    func showExitCode(_ literal: String, _ phrase: String) throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try report(exitCode: literal, in: folder)
        expectRefused(["show", path], phrase: phrase)
    }

    @Test("show of a report recording 1 exits 1; a repeated member is refused")
    func showValid() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try report(exitCode: "1", in: folder)
        #expect(try CLIRunner.run(["show", path]).status == 1)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "\"exit_code\" : 1", with: "\"exit_code\" : 1, \"exit_code\" : 0").utf8)
            .write(to: URL(fileURLWithPath: path))
        expectRefused(["show", path], phrase: "member 'exit_code' is given twice")
    }

    @Test("a batch report whose pair exit code is 7 is refused")
    func showBatchExitCode() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifest = folder.appendingPathComponent("batch.json").path
        try Data(#"{"ckdiff_batch_version": 1, "pairs": [{"a": "\#(Self.model)", "b": "\#(Self.model)"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: manifest))
        let path = folder.appendingPathComponent("batch-report.json").path
        #expect(try CLIRunner.run(["batch", manifest, "--json", path]).status == 0)
        #expect(try CLIRunner.run(["show", path]).status == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var edited = text
        if let range = text.range(of: "\"exit_code\" : 0") { edited.replaceSubrange(range, with: "\"exit_code\" : 7") }
        #expect(edited != text)
        try Data(edited.utf8).write(to: URL(fileURLWithPath: path))
        expectRefused(["show", path], phrase: "is 7; a ckdiff report records 0, 1 or 2")
    }

    @Test("a baseline with a negative slack or an out-of-range count is refused with one line")
    func baselineFields() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("baseline.json").path
        #expect(try CLIRunner.run([Self.model, Self.model, "--save-baseline", path]).status == 0)
        #expect(try CLIRunner.run([Self.model, Self.model, "--baseline", path]).status == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let negative = text.replacingOccurrences(of: "\"relative\" : 0.05", with: "\"relative\" : -1")
        #expect(negative != text)
        try Data(negative.utf8).write(to: URL(fileURLWithPath: path))
        expectRefused([Self.model, Self.model, "--baseline", path], phrase: "slack.relative is -1.0")
        let huge = text.replacingOccurrences(of: "\"ckdiff_baseline_version\" : 1", with: "\"ckdiff_baseline_version\" : 18446744073709551617")
        try Data(huge.utf8).write(to: URL(fileURLWithPath: path))
        expectRefused([Self.model, Self.model, "--baseline", path], phrase: "out of range")
    }

    @Test("a policy or manifest with out-of-range numbers is refused with one line", arguments: [
        ("policy", #"{"tolerance": {"atol": 1e400, "rtol": 0}}"#, "atol and rtol must be finite numbers ≥ 0"),
        ("policy", #"{"ckdiff_policy_version": 18446744073709551617}"#, "ckdiff_policy_version must be 1"),
        ("policy", #"{"dtypes": {"F32": {"atol": -1, "rtol": 0}}}"#, "atol and rtol must be finite numbers ≥ 0"),
        ("manifest", #"{"ckdiff_batch_version": 2147483648, "pairs": [{"a": "x", "b": "y"}]}"#, "ckdiff_batch_version must be 1"),
    ])
    func outOfRangeSettings(_ role: String, _ text: String, _ phrase: String) throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("\(role).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let arguments = role == "policy" ? [Self.model, Self.model, "--policy", path] : ["batch", path]
        expectRefused(arguments, phrase: phrase)
    }

    // MARK: Messages

    @Test("a policy key and a folder name with terminal escapes are echoed printable")
    func escapedEchoes() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = folder.appendingPathComponent("policy.json").path
        try Data(#"{"\u001b]0;pwned\u0007": 1}"#.utf8).write(to: URL(fileURLWithPath: policy))
        expectRefused([Self.model, Self.model, "--policy", policy], phrase: "unknown setting '?]0;pwned?'")
        let missing = folder.appendingPathComponent("m\u{1B}]0;pwned\u{07}\r\nx").path
        expectRefused(["inspect", missing], phrase: "m?]0;pwned???x")
    }
}

/// What `ckdiff inspect` prints of names and metadata taken from a hostile file.
@Suite("ckdiff inspect: names and metadata from the file reach the terminal printable")
struct EscapedInspectCLITests {
    @Test("a tensor name, a metadata key and a value with ESC, BEL, CR and C1 are shown with '?'")
    func escapedInspect() throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-escaped")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.safetensors").path
        try SafetensorsWriter.write([.f32("w\u{1B}]0;pwned\u{07}", [1], [1])],
                                    metadata: ["k\u{1B}[2J": "v\u{9B}31m\r\n"], to: path)
        let outcome = try CLIRunner.run(["inspect", path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let controls = outcome.stdout.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
        #expect(controls.isEmpty, "\(outcome.stdout.debugDescription)")
        #expect(outcome.stdout.contains("k?[2J"), "\(outcome.stdout)")
    }
}
