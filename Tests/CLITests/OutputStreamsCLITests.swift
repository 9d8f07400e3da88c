import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

/// One machine format per stream, outputs checked before any work, and a one-line mode.
@Suite("ckdiff outputs: one format per stream, paths checked first, --brief; the command line in process")
struct OutputStreamsCLITests {
    /// Two small files that differ in one value, so that the gate fails and annotations exist.
    private func differentPair() throws -> (a: String, b: String, folder: URL) {
        let folder = try Fixtures.temporaryDirectory("ckdiff-streams")
        let a = folder.appendingPathComponent("a.safetensors").path, b = folder.appendingPathComponent("b.safetensors").path
        let values = (0..<64).map { Float($0) * 0.01 }
        var changed = values
        changed[5] += 0.3
        try SafetensorsWriter.write([.f32("x", [8, 8], values)], to: a)
        try SafetensorsWriter.write([.f32("x", [8, 8], changed)], to: b)
        return (a, b, folder)
    }

    @Test("--json - --github: standard output is the JSON alone, the annotations go to standard error")
    func jsonWithGitHub() throws {
        let (a, b, folder) = try differentPair()
        let summary = folder.appendingPathComponent("summary.md").path
        let outcome = try CLIRunner.run([a, b, "--json", "-", "--github"], environment: ["GITHUB_STEP_SUMMARY": summary])
        #expect(outcome.status == 1)
        #expect(try JSONSerialization.jsonObject(with: outcome.stdoutData) is [String: Any])
        #expect(outcome.stderr.contains("::error"))
    }

    @Test("--markdown - and --junit -: standard output holds that document and nothing else")
    func documentOnStandardOutput() throws {
        let (a, b, folder) = try differentPair()
        for option in ["--markdown", "--junit"] {
            let file = folder.appendingPathComponent("report\(option)").path
            let toFile = try CLIRunner.run([a, b, option, file])
            let toStdout = try CLIRunner.run([a, b, option, "-"])
            #expect(toFile.status == 1 && toStdout.status == 1)
            let written = try String(contentsOfFile: file, encoding: .utf8)
            if option == "--junit" {
                // The JUnit document carries a timestamp and the seconds taken: compare everything but those.
                let strip = { (text: String) in
                    text.replacingOccurrences(of: #"(timestamp|time)="[^"]*""#, with: "", options: .regularExpression)
                }
                #expect(strip(toStdout.stdout) == strip(written))
            } else {
                #expect(toStdout.stdout == written)
            }
        }
    }

    @Test("two outputs naming one file, or standard output twice, are refused before any checkpoint is read",
          arguments: [["--json", "X", "--markdown", "X"], ["--json", "-", "--junit", "-"], ["--save-baseline", "X", "--junit", "X"]])
    func sameFileTwice(outputs: [String]) throws {
        let folder = try Fixtures.temporaryDirectory("ckdiff-streams")
        let file = folder.appendingPathComponent("out.txt").path
        let missing = "/nonexistent/never-read.safetensors"
        let outcome = try CLIRunner.run([missing, missing] + outputs.map { $0 == "X" ? file : $0 })
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("both write to"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("never-read"))
    }

    @Test("an output in a folder that does not exist is named before the comparison runs")
    func missingFolder() throws {
        let missing = "/nonexistent/never-read.safetensors"
        let outcome = try CLIRunner.run([missing, missing, "--json", "/nonexistent-reports/big.json"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("the folder /nonexistent-reports does not exist"), "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test("a write that fails after the comparison still prints the terminal report, then exits 2",
          .enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "/dev/full is needed"))
    func lateFailure() throws {
        let (a, b, _) = try differentPair()
        let outcome = try CLIRunner.run([a, b, "--json", "/dev/full"])
        #expect(outcome.status == 2)
        #expect(outcome.stdout.contains("DIFFERENT"))
        #expect(outcome.stderr.contains("/dev/full"))
    }

    @Test("--brief (-q): one line with the verdict, the exit status and the counts; the same exit status")
    func brief() throws {
        let (a, b, _) = try differentPair()
        for flag in ["--brief", "-q"] {
            let different = try CLIRunner.run([a, b, flag])
            #expect(different.status == 1)
            #expect(different.stdout.hasPrefix("DIFFERENT (exit 1): \(a) \(b): aligned 1,"), "\(different.stdout)")
            #expect(different.stdout.split(separator: "\n").count == 1)
            let same = try CLIRunner.run([a, a, flag])
            #expect(same.status == 0)
            #expect(same.stdout.hasPrefix("EQUIVALENT (exit 0): "))
        }
    }
}
