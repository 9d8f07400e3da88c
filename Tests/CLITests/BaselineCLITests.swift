import CKDiffJSON
import CKDiffTestSupport
import Foundation
import Safetensors
import Testing

@Suite("ckdiff --baseline: pass, regression fail, improvement pass, the command line in process")
struct BaselineCLITests {
    static let fp32 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors")
    static let fp16 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors")
    /// A UNet conv weight of 288 elements in the SGM files.
    static let victim = "model.diffusion_model.input_blocks.0.0.weight"

    /// A baseline of fp32 against `b` in a fresh folder.
    private func baseline(against b: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("baseline.json").path
        let outcome = try CLIRunner.run([Self.fp32, b, "--save-baseline", path])
        #expect(outcome.status == 0 || outcome.status == 1, "\(outcome.stderr)")
        return path
    }

    /// A copy of the F16 file with element 0 of the victim set to 1.0 (its values are about 0.1).
    private func damaged(in directory: URL, bits: UInt16 = 0x3C00, name: String = "damaged.safetensors") throws -> String {
        let path = directory.appendingPathComponent(name).path
        try CheckpointEdits.copy(of: Self.fp16, to: path, change: { tensor, bytes, _ in
            tensor == Self.victim ? CheckpointEdits.settingF16(bytes, index: 0, bits: bits) : bytes
        })
        return path
    }

    private func outcome(_ data: Data) throws -> (regressions: [[String: Any]], improvements: [[String: Any]]) {
        let json = try CheckpointEdits.object(data)
        let baseline = try #require(json["baseline"] as? [String: Any])
        return (try #require(baseline["regressions"] as? [[String: Any]]), try #require(baseline["improvements"] as? [[String: Any]]))
    }

    @Test("the saved baseline is versioned and records verdicts, statistics, coverage and findings")
    func format() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try baseline(against: Self.fp16, in: directory)
        let json = try CheckpointEdits.object(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(json["ckdiff_baseline_version"] as? Int == 1)
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.count == 1045)
        let victim = try #require(tensors.first { $0["name"] as? String == Self.victim })
        #expect(victim["verdict"] as? String == "exact_cast")
        #expect(victim["a_dtype"] as? String == "F32" && victim["b_dtype"] as? String == "F16")
        #expect((victim["max_abs"] as? Double ?? 0) > 0)
        #expect((json["components"] as? [[String: Any]])?.count == 4)
        #expect(json["findings"] as? [Any] != nil)
        let slack = try #require(json["slack"] as? [String: Double])
        #expect(slack["relative"] == 0.05 && slack["max_abs_floor"] == 1e-6)
    }

    @Test("the same comparison passes: exit 0, nothing changed")
    func pass() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try baseline(against: Self.fp16, in: directory)
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", path, "--json", "-"])
        #expect(outcome.status == 0)
        #expect(try JSONSchemaValidator(schemaPath: CheckpointEdits.schema).violations(of: outcome.stdoutData).isEmpty)
        let result = try self.outcome(outcome.stdoutData)
        #expect(result.regressions.isEmpty && result.improvements.isEmpty)
    }

    @Test("a harmless change passes: the smallest element of a tensor moved by one F16 step")
    func harmless() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try baseline(against: Self.fp16, in: directory)
        let b = directory.appendingPathComponent("nudged.safetensors").path
        var nudged = -1
        try CheckpointEdits.copy(of: Self.fp16, to: b, change: { tensor, bytes, _ in
            guard tensor == Self.victim else { return bytes }
            let bits = CheckpointEdits.f16Bits(bytes)
            // the smallest non-zero magnitude: one step there is far below the tensor's largest error
            let magnitudes = bits.map { $0 & 0x7FFF }
            guard let smallest = magnitudes.enumerated().filter({ $0.element != 0 }).min(by: { $0.element < $1.element }) else { return bytes }
            nudged = smallest.offset
            return CheckpointEdits.settingF16(bytes, index: smallest.offset, bits: bits[smallest.offset] + 1)
        })
        #expect(nudged >= 0)
        let outcome = try CLIRunner.run([Self.fp32, b, "--baseline", path, "--json", "-"])
        #expect(outcome.status == 0, "\(outcome.stdout.prefix(300))")
        #expect(try self.outcome(outcome.stdoutData).regressions.isEmpty)
    }

    @Test("a damaged tensor is a regression: exit 1, named with its statistic and verdict")
    func regression() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try baseline(against: Self.fp16, in: directory)
        let junit = directory.appendingPathComponent("junit.xml").path
        let outcome = try CLIRunner.run([Self.fp32, try damaged(in: directory), "--baseline", path, "--json", "-", "--junit", junit])
        #expect(outcome.status == 1)
        let result = try self.outcome(outcome.stdoutData)
        let pairChanges = result.regressions.filter { $0["kind"] as? String != "finding" }
        #expect(Set(pairChanges.compactMap { $0["name"] as? String }) == [Self.victim])
        // JUnit against a baseline: one case per rule and component; the one failure is the UNet's statistics rule
        let xml = try Data(contentsOf: URL(fileURLWithPath: junit))
        #expect(JUnitValidator.violations(of: xml).isEmpty)
        let text = String(decoding: xml, as: UTF8.self)
        #expect(text.contains(#"<testcase name="no worse statistics" classname="ckdiff.unet" time="0">"#))
        #expect(text.contains(#"<testcase name="no newly missing keys" classname="ckdiff.unet" time="0"/>"#))
        #expect(Set(pairChanges.compactMap { $0["kind"] as? String }) == ["max_abs", "rel_l2", "verdict"])
        // diagnosis explains the damage with a new finding, which is a regression too
        #expect(result.regressions.contains { $0["kind"] as? String == "finding" })
        #expect(outcome.stdout.contains("\"mode\" : \"baseline\""))
    }

    @Test("new non-finite values, a newly missing key and a new dtype mismatch are regressions")
    func otherRegressions() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try baseline(against: Self.fp16, in: directory)
        let nan = try damaged(in: directory, bits: 0x7E00, name: "nan.safetensors")
        let nanRun = try CLIRunner.run([Self.fp32, nan, "--baseline", path, "--json", "-"])
        #expect(nanRun.status == 1)
        #expect(try self.outcome(nanRun.stdoutData).regressions.contains { $0["kind"] as? String == "nonfinite" && $0["name"] as? String == Self.victim })

        let dropped = directory.appendingPathComponent("dropped.safetensors").path
        try CheckpointEdits.copy(of: Self.fp16, to: dropped) { $0 != Self.victim }
        let droppedRun = try CLIRunner.run([Self.fp32, dropped, "--baseline", path, "--json", "-"])
        #expect(droppedRun.status == 1)
        let missing = try self.outcome(droppedRun.stdoutData).regressions.filter { $0["kind"] as? String != "finding" }
        #expect(missing.count == 1 && missing.first?["kind"] as? String == "missing" && missing.first?["name"] as? String == Self.victim)

        let same = try baseline(against: Self.fp32, in: try Fixtures.temporaryDirectory())
        let castRun = try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", same, "--json", "-"])
        #expect(castRun.status == 1)
        let kinds = try self.outcome(castRun.stdoutData).regressions.filter { $0["kind"] as? String == "dtype" }
        #expect(kinds.count == 1045)
    }

    @Test("an improvement passes and is reported: the baseline had the damage, this run does not")
    func improvement() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try baseline(against: try damaged(in: directory), in: directory)
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", path, "--json", "-"])
        #expect(outcome.status == 0)
        let result = try self.outcome(outcome.stdoutData)
        #expect(result.regressions.isEmpty)
        let pairChanges = result.improvements.filter { $0["kind"] as? String != "finding" }
        #expect(Set(pairChanges.compactMap { $0["name"] as? String }) == [Self.victim])
        #expect(result.improvements.contains { $0["kind"] as? String == "finding" })
        let terminal = try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", path])
        #expect(terminal.status == 0 && terminal.stdout.contains("improvement: \(Self.victim)"))
        // without the baseline the damage-free run is simply equivalent, and the damaged one different
        #expect(try CLIRunner.run([Self.fp32, try damaged(in: directory, name: "again.safetensors")]).status == 1)
    }

    @Test("findings are matched on kind and tensors: one gone from the baseline is an improvement")
    func findingGone() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = try baseline(against: Self.fp16, in: directory)
        var json = try CheckpointEdits.object(try Data(contentsOf: URL(fileURLWithPath: path)))
        json["findings"] = [["kind": "cast_damage", "severity": "error", "tensors": [Self.victim], "parameters": 288,
                             "message": "recorded by hand"]]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", path, "--json", "-"])
        #expect(outcome.status == 0)
        let improvements = try self.outcome(outcome.stdoutData).improvements
        #expect(improvements.count == 1 && improvements.first?["kind"] as? String == "finding")
    }

    @Test("baseline trouble: a missing or foreign file exits 2; --baseline and --save-baseline on one file are refused")
    func trouble() throws {
        let directory = try Fixtures.temporaryDirectory()
        let missing = directory.appendingPathComponent("none.json").path
        let run = try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", missing])
        #expect(run.status == 2 && run.stderr.contains(missing))
        let foreign = directory.appendingPathComponent("foreign.json").path
        try Data(#"{"hello": 1}"#.utf8).write(to: URL(fileURLWithPath: foreign))
        #expect(try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", foreign]).status == 2)
        let path = try baseline(against: Self.fp16, in: directory)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", path, "--save-baseline", path]).status == 2)
        #expect(try CLIRunner.run([Self.fp32, Self.fp16, "--baseline", path, "--json", path]).status == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test("the committed baselines of the bundled samples pass (Baselines/samples.json)")
    func committedBaselines() throws {
        let manifest = CheckpointEdits.repository.appendingPathComponent("Baselines/samples.json").path
        let outcome = try CLIRunner.run(["batch", manifest, "--json", "-"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try CheckpointEdits.object(outcome.stdoutData)
        let pairs = try #require(json["pairs"] as? [[String: Any]])
        #expect(pairs.count == 5)
        for pair in pairs {
            let report = try #require(pair["report"] as? [String: Any], "\(pair["name"] ?? "")")
            let baseline = try #require(report["baseline"] as? [String: Any])
            #expect((baseline["regressions"] as? [Any])?.isEmpty == true, "\(pair["name"] ?? "")")
        }
    }

    @Test("a regression injected into a bundled sample fails its committed baseline")
    func committedBaselineCatchesRegression() throws {
        let directory = try Fixtures.temporaryDirectory()
        let baseline = CheckpointEdits.repository.appendingPathComponent("Baselines/sdxl-sgm-fp32-vs-fp16.json").path
        let outcome = try CLIRunner.run([Self.fp32, try damaged(in: directory), "--baseline", baseline, "--json", "-"])
        #expect(outcome.status == 1)
        #expect(try self.outcome(outcome.stdoutData).regressions.contains { $0["name"] as? String == Self.victim })
    }
}
