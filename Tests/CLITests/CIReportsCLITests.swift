import CKDiffTestSupport
import Foundation
import Testing

@Suite("ckdiff CI reports: JUnit, Markdown, GitHub, show, the command line in process")
struct CIReportsCLITests {
    static let fp32 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors")
    static let fp16 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors")

    /// A small pair with one of each difference: a changed value (x), a new NaN (z), a key only in A (w), one only in B (v).
    private func smallPair(in directory: URL) throws -> (a: String, b: String) {
        let a = directory.appendingPathComponent("a.safetensors").path
        let b = directory.appendingPathComponent("b.safetensors").path
        let values = (0..<64).map { Float($0) * 0.01 }
        var changed = values
        changed[10] += 0.5
        try SafetensorsWriter.write([.f32("x", [8, 8], values), .f32("y", [4], [1, 2, 3, 4]), .f32("z", [3], [0, 1, 2]),
                                     .f32("w", [2], [5, 6])], to: a)
        try SafetensorsWriter.write([.f32("x", [8, 8], changed), .f32("y", [4], [1, 2, 3, 4]), .f32("z", [3], [0, .nan, 2]),
                                     .f32("v", [2], [7, 8])], to: b)
        return (a, b)
    }

    private func text(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    @Test("JUnit: a suite per component, a case per fail-on check; failures exactly where the checks fired; valid under the Ant and Jenkins rules")
    func junit() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("junit.xml").path
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--component-tolerance", "vae=0,0", "--fail-on", "default,dtype", "--junit", path])
        #expect(outcome.status == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let problems = JUnitValidator.violations(of: data)
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        let xml = String(decoding: data, as: UTF8.self)
        // four components × one case per fail-on entry
        let policy = try CheckpointEdits.object(try CLIRunner.run(["policy", "--fail-on", "default,dtype"]).stdoutData)
        let checks = try #require(policy["fail_on"] as? [String]).count
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 4 * checks)
        // dtype fires in every component (all pairs are F32→F16), tolerance in the VAE only (0/0 there)
        #expect(xml.components(separatedBy: "<failure ").count - 1 == 5)
        #expect(xml.contains(#"<testcase name="tolerance" classname="ckdiff.vae" time="0">"#))
        #expect(xml.contains(#"<testcase name="tolerance" classname="ckdiff.unet" time="0"/>"#))
        #expect(xml.contains(#"<testcase name="dtype" classname="ckdiff.unet" time="0">"#))
        #expect(!xml.contains("<error "))

        let passing = directory.appendingPathComponent("pass.xml").path
        #expect(try CLIRunner.run([Self.fp32, Self.fp16, "--junit", passing]).status == 0)
        let passData = try Data(contentsOf: URL(fileURLWithPath: passing))
        #expect(JUnitValidator.violations(of: passData).isEmpty)
        #expect(!String(decoding: passData, as: UTF8.self).contains("<failure"))
    }

    @Test("JUnit on trouble: one errored case, no failure, exit 2")
    func junitTrouble() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("junit.xml").path
        let bad = Fixtures.path("safetensors_cases/malformed/truncated_data.safetensors")
        let outcome = try CLIRunner.run([Self.fp32, bad, "--junit", path])
        #expect(outcome.status == 2)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(JUnitValidator.violations(of: data).isEmpty)
        let xml = String(decoding: data, as: UTF8.self)
        #expect(xml.contains(#"<error type="trouble""#) && xml.contains(#"errors="1""#) && !xml.contains("<failure"))
        #expect(xml.contains("truncated_data.safetensors"))
    }

    @Test("the JUnit validator rejects a report missing a required attribute, or with counts that disagree")
    func validatorCatchesErrors() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("junit.xml").path
        _ = try CLIRunner.run([Self.fp32, Self.fp16, "--fail-on", "dtype", "--junit", path])
        let xml = try text(path)
        #expect(JUnitValidator.violations(of: Data(xml.utf8)).isEmpty)
        let noClassname = xml.replacingOccurrences(of: #" classname="ckdiff.vae""#, with: "")
        #expect(JUnitValidator.violations(of: Data(noClassname.utf8)).contains { $0.contains("missing required attribute 'classname'") })
        let noType = xml.replacingOccurrences(of: #"<failure type="dtype""#, with: "<failure")
        #expect(JUnitValidator.violations(of: Data(noType.utf8)).contains { $0.contains("missing required attribute 'type'") })
        let noHost = xml.replacingOccurrences(of: #"hostname=""#, with: #"host=""#)
        #expect(!JUnitValidator.violations(of: Data(noHost.utf8)).isEmpty)
        let wrongCount = xml.replacingOccurrences(of: #"failures="1""#, with: #"failures="0""#)
        #expect(JUnitValidator.violations(of: Data(wrongCount.utf8)).contains { $0.contains("failures=0 but 1") })
    }

    @Test("Markdown summary matches the committed snapshot (paths and version normalised)")
    func markdownSnapshot() throws {
        let directory = try Fixtures.temporaryDirectory()
        let (a, b) = try smallPair(in: directory)
        let path = directory.appendingPathComponent("summary.md").path
        let outcome = try CLIRunner.run([a, b, "--markdown", path])
        #expect(outcome.status == 1)
        let markdown = try text(path)
            .replacingOccurrences(of: directory.path, with: "<tmp>")
            .replacingOccurrences(of: "ckdiff 0.1.0", with: "ckdiff <version>")
        // independent of the snapshot: what the pair was built to contain
        #expect(markdown.hasPrefix("## ❌ ckdiff: different (exit 1)"))
        for expected in ["| `missing` | other | 1 | `w` |", "| `extra` | other | 1 | `v` |",
                         "| `tolerance` | other | 2 | `x`, `z` |", "| `nonfinite` | other | 1 | `z` |"] {
            #expect(markdown.contains(expected), "\(expected)")
        }
        let snapshot = Fixtures.root.appendingPathComponent("snapshots/compare-summary.md")
        if ProcessInfo.processInfo.environment["CKDIFF_RECORD_SNAPSHOTS"] == "1" {
            try Data(markdown.utf8).write(to: snapshot)
        }
        let expected = try text(snapshot.path)
        #expect(markdown == expected, "run with CKDIFF_RECORD_SNAPSHOTS=1 to re-record after a deliberate change, and review the diff")
    }

    @Test("--github appends the summary to $GITHUB_STEP_SUMMARY and prints ::error annotations on B")
    func github() throws {
        let directory = try Fixtures.temporaryDirectory()
        let (a, b) = try smallPair(in: directory)
        let summary = directory.appendingPathComponent("step-summary.md").path
        try Data("earlier step\n".utf8).write(to: URL(fileURLWithPath: summary))
        let outcome = try CLIRunner.run([a, b, "--github"], environment: ["GITHUB_STEP_SUMMARY": summary])
        #expect(outcome.status == 1)
        let written = try text(summary)
        #expect(written.hasPrefix("earlier step\n## ❌ ckdiff: different"))
        let annotations = outcome.stdout.split(separator: "\n").filter { $0.hasPrefix("::error ") }
        // one per check that fired: missing, extra, tolerance, nonfinite, and the verdict diagnosis gives x
        #expect(annotations.count == 5)
        let escapedB = b.replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
        #expect(annotations.allSatisfy { $0.hasPrefix("::error file=\(escapedB),title=") })
        #expect(annotations.contains { $0.contains("title=ckdiff missing (other)::1 found: w") })
    }

    @Test("show re-renders a saved report without the checkpoints: same Markdown, same exit status")
    func show() throws {
        let directory = try Fixtures.temporaryDirectory()
        let (a, b) = try smallPair(in: directory)
        let report = directory.appendingPathComponent("report.json").path
        let first = directory.appendingPathComponent("first.md").path
        let firstJUnit = directory.appendingPathComponent("first.xml").path
        let compare = try CLIRunner.run([a, b, "--json", report, "--markdown", first, "--junit", firstJUnit])
        #expect(compare.status == 1)
        try FileManager.default.removeItem(atPath: a)
        try FileManager.default.removeItem(atPath: b)
        let second = directory.appendingPathComponent("second.md").path
        let secondJUnit = directory.appendingPathComponent("second.xml").path
        let shown = try CLIRunner.run(["show", report, "--markdown", second, "--junit", secondJUnit])
        #expect(shown.status == 1)
        #expect(try text(first) == text(second))
        #expect(JUnitValidator.violations(of: try Data(contentsOf: URL(fileURLWithPath: secondJUnit))).isEmpty)
        #expect(shown.stdout.contains("DIFFERENT"))
        #expect(try CLIRunner.run(["show", first]).status == 2)
    }
}
