import CKDiffJSON
import CKDiffTestSupport
import Foundation
import Testing

@Suite("ckdiff batch: one combined report, one exit status, the command line in process")
struct BatchCLITests {
    static let fp32 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors")
    static let fp16 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors")

    /// A folder with a base file, a copy with one changed value, and a manifest listing `pairs`.
    private func setup(_ pairs: [[String: Any]]) throws -> (folder: URL, manifest: String) {
        let directory = try Fixtures.temporaryDirectory()
        let values = (0..<16).map { Float($0) }
        var changed = values
        changed[3] = 100
        try SafetensorsWriter.write([.f32("x", [4, 4], values)], to: directory.appendingPathComponent("base.safetensors").path)
        try SafetensorsWriter.write([.f32("x", [4, 4], changed)], to: directory.appendingPathComponent("changed.safetensors").path)
        let manifest = directory.appendingPathComponent("manifest.json").path
        try JSONSerialization.data(withJSONObject: ["ckdiff_batch_version": 1, "pairs": pairs]).write(to: URL(fileURLWithPath: manifest))
        return (directory, manifest)
    }

    @Test("one pair of three in trouble, one different: exit 2, and the other pairs' results are all there")
    func troubleDoesNotHideOthers() throws {
        let (folder, manifest) = try setup([
            ["name": "same", "a": "base.safetensors", "b": "base.safetensors"],
            ["name": "changed", "a": "base.safetensors", "b": "changed.safetensors"],
            ["name": "broken", "a": "base.safetensors", "b": "missing.safetensors"],
            ["name": "cast", "a": Self.fp32, "b": Self.fp16],
        ])
        let junit = folder.appendingPathComponent("junit.xml").path
        let markdown = folder.appendingPathComponent("summary.md").path
        let outcome = try CLIRunner.run(["batch", manifest, "--json", "-", "--junit", junit, "--markdown", markdown])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("broken") && outcome.stderr.contains("missing.safetensors"))
        let json = try CheckpointEdits.object(outcome.stdoutData)
        let summary = try #require(json["summary"] as? [String: Int])
        #expect(summary == ["pairs": 4, "equivalent": 2, "different": 1, "trouble": 1, "exit_code": 2])
        let pairs = try #require(json["pairs"] as? [[String: Any]])
        #expect(pairs.map { $0["status"] as? String } == ["equivalent", "different", "trouble", "equivalent"])
        #expect(pairs.map { $0["exit_code"] as? Int } == [0, 1, 2, 0])
        #expect(pairs[2]["report"] == nil && (pairs[2]["error"] as? String)?.contains("missing.safetensors") == true)
        let validator = try JSONSchemaValidator(schemaPath: CheckpointEdits.schema)
        for pair in pairs {
            guard let report = pair["report"] else { continue }
            #expect(try validator.violations(of: JSONSerialization.data(withJSONObject: report)).isEmpty)
        }
        let changed = try #require(pairs[1]["report"] as? [String: Any])
        let tensors = try #require(changed["tensors"] as? [[String: Any]])
        #expect(tensors.first?["max_abs"] as? Double == 97 && tensors.first?["mismatched"] as? Int == 1)
        let xml = try Data(contentsOf: URL(fileURLWithPath: junit))
        #expect(JUnitValidator.violations(of: xml).isEmpty)
        let text = String(decoding: xml, as: UTF8.self)
        #expect(text.components(separatedBy: "<error ").count - 1 == 1)
        // failures: exactly the checks that fired for the changed pair, all in its suite
        let fired = try #require((changed["gate"] as? [String: Any])?["triggered"] as? [[String: Any]])
        #expect(!fired.isEmpty && fired.allSatisfy { $0["component"] as? String == "other" })
        #expect(text.components(separatedBy: "<failure ").count - 1 == fired.count)
        #expect(text.contains(#"<testsuite name="broken""#) && text.contains(#"<testsuite name="changed.other""#))
        let summaryText = String(decoding: try Data(contentsOf: URL(fileURLWithPath: markdown)), as: UTF8.self)
        #expect(summaryText.hasPrefix("## ⚠️ ckdiff batch: 2 equivalent, 1 different, 1 trouble (exit 2)"))
        #expect(summaryText.contains("### ❌ ckdiff · changed: different (exit 1)"))
    }

    @Test("one pair of several different, none in trouble: exit 1; all equivalent: exit 0")
    func differenceExitsOne() throws {
        let (_, different) = try setup([
            ["name": "same", "a": "base.safetensors", "b": "base.safetensors"],
            ["name": "changed", "a": "base.safetensors", "b": "changed.safetensors"],
        ])
        #expect(try CLIRunner.run(["batch", different]).status == 1)
        let (_, same) = try setup([
            ["a": "base.safetensors", "b": "base.safetensors"],
            ["a": Self.fp32, "b": Self.fp16],
        ])
        let outcome = try CLIRunner.run(["batch", same])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("pair-1") && outcome.stdout.contains("pair-2"))
    }

    @Test("a pair's policy overrides the manifest's; the command line overrides both")
    func policyLayers() throws {
        let (_, manifest) = try setup([
            ["name": "lenient", "a": "base.safetensors", "b": "changed.safetensors",
             "policy": ["tolerance": ["atol": 100, "rtol": 0]]],
            ["name": "strict", "a": "base.safetensors", "b": "changed.safetensors"],
        ])
        let outcome = try CLIRunner.run(["batch", manifest, "--json", "-"])
        #expect(outcome.status == 1)
        let pairs = try #require(try CheckpointEdits.object(outcome.stdoutData)["pairs"] as? [[String: Any]])
        #expect(pairs.map { $0["status"] as? String } == ["equivalent", "different"])
        let forced = try CLIRunner.run(["batch", manifest, "--fail-on", "only:missing"])
        #expect(forced.status == 0)
    }

    @Test("a manifest that cannot be read is trouble naming it", arguments: [
        #"{"pairs": []}"#, #"{"pairs": [{"a": "x"}]}"#, #"{"pairs": [{"a": "x", "b": "y", "colour": 1}]}"#,
        #"{"pairs": [{"name": "n", "a": "x", "b": "y"}, {"name": "n", "a": "x", "b": "y"}]}"#, "[]",
    ])
    func badManifest(text: String) throws {
        let directory = try Fixtures.temporaryDirectory()
        let manifest = directory.appendingPathComponent("manifest.json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: manifest))
        let outcome = try CLIRunner.run(["batch", manifest])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(manifest) && outcome.stderr.split(separator: "\n").count == 1)
    }
}
