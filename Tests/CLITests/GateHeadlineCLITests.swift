import CKDiffTestSupport
import Foundation
import Reporting
import Safetensors
import Testing

/// The gate's fail-on list and its headline: adding is the normal case, replacing is explicit, and
/// EQUIVALENT is never printed above an error (issue: `--fail-on dtype` replaced the defaults).
@Suite("ckdiff --fail-on +X / only:X and the headline, the command line in process")
struct GateHeadlineCLITests {
    static let fp32 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors")
    static let fp16 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors")

    /// A copy of the F32 file with a NaN in one UNet tensor, another scaled by 1.5 and a third dropped.
    private func broken(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("broken.safetensors").path
        let header = try SafetensorsFile.open(Self.fp32)
        let unet = header.tensors.filter { $0.name.hasPrefix("model.diffusion_model.") && $0.dtype == .f32 && $0.shape.count == 4 }
        try #require(unet.count >= 3)
        let (nan, scaled, dropped) = (unet[0].name, unet[1].name, unet[2].name)
        try CheckpointEdits.copy(of: Self.fp32, to: path, keep: { $0 != dropped }, change: { name, bytes, _ in
            var floats = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            if name == nan { floats[0] = .nan }
            if name == scaled { floats = floats.map { $0 * 1.5 } }
            return name == nan || name == scaled ? floats.withUnsafeBytes { Array($0) } : bytes
        })
        return path
    }

    private func failOn(_ data: Data) throws -> [String] {
        let policy = try #require(try CheckpointEdits.object(data)["policy"] as? [String: Any])
        return try #require(policy["fail_on"] as? [String])
    }

    @Test("a bare or +-prefixed category is added to the defaults; the fp32/fp16 cast then fails on dtype", arguments: ["dtype", "+dtype"])
    func adds(value: String) throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--fail-on", value, "--json", "-"])
        #expect(outcome.status == 1, "\(outcome.stderr)")
        let list = try failOn(outcome.stdoutData)
        #expect(list.contains("dtype"))
        #expect(Set(["missing", "extra", "tolerance", "nonfinite"]).isSubset(of: Set(list)), "\(list)")
        let defaults = try failOn(try CLIRunner.run([Self.fp32, Self.fp16, "--json", "-"]).stdoutData)
        #expect(list == defaults + ["dtype"])
    }

    @Test("only:LIST replaces the list; later values add to the replacement")
    func replaces() throws {
        let only = try CLIRunner.run([Self.fp32, Self.fp16, "--fail-on", "only:dtype", "--json", "-"])
        #expect(try failOn(only.stdoutData) == ["dtype"])
        let more = try CLIRunner.run([Self.fp32, Self.fp16, "--fail-on", "only:missing", "--fail-on", "+dtype,extra", "--json", "-"])
        #expect(try failOn(more.stdoutData) == ["missing", "dtype", "extra"])
        #expect(try CLIRunner.run([Self.fp32, Self.fp16, "--fail-on", "only:"]).status == 2)
    }

    @Test("errors outside a narrowed list: exit 0, but the headline says WAIVED with the count, never EQUIVALENT")
    func waived() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = try broken(in: directory)
        let strict = try CLIRunner.run([Self.fp32, b])
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("verdict: DIFFERENT (exit 1)"))
        let narrowed = try CLIRunner.run([Self.fp32, b, "--fail-on", "only:dtype"])
        #expect(narrowed.status == 0, "\(narrowed.stderr)")
        #expect(!narrowed.stdout.contains("EQUIVALENT"), "\(narrowed.stdout.prefix(600))")
        let headline = try #require(narrowed.stdout.split(separator: "\n").first { $0.hasPrefix("verdict: ") })
        #expect(headline.hasPrefix("verdict: WAIVED (exit 0): the gate passed, but "), "\(headline)")
        #expect(headline.contains("error finding") && headline.hasSuffix("outside its checks (fail on: dtype)"), "\(headline)")
        let errors = narrowed.stdout.split(separator: "\n").filter { $0.hasPrefix("  error ") }.count
        #expect(errors >= 2)
        let brief = try CLIRunner.run([Self.fp32, b, "--fail-on", "only:dtype", "--brief"])
        #expect(brief.stdout.hasPrefix("WAIVED (exit 0): "), "\(brief.stdout)")
        let markdown = try CLIRunner.run([Self.fp32, b, "--fail-on", "only:dtype", "--markdown", "-"])
        #expect(markdown.stdout.hasPrefix("## ✅ ckdiff: waived (exit 0): the gate passed"), "\(markdown.stdout.prefix(200))")
        // an equivalent pair stays EQUIVALENT
        #expect(try CLIRunner.run([Self.fp32, Self.fp32]).stdout.contains("verdict: EQUIVALENT (exit 0)"))
    }

    @Test("against a baseline: no regression is said so, with the known differences; one damaged tensor is one regression, its metrics under it")
    func baselineWording() throws {
        let directory = try Fixtures.temporaryDirectory()
        let baseline = directory.appendingPathComponent("baseline.json").path
        let b = try broken(in: directory)
        _ = try CLIRunner.run([Self.fp32, b, "--save-baseline", baseline])
        let same = try CLIRunner.run([Self.fp32, b, "--baseline", baseline])
        #expect(same.status == 0)
        #expect(same.stdout.contains("verdict: NO-REGRESSION (exit 0): no regression against the baseline (known differences: "), "\(same.stdout.prefix(600))")
        #expect(!same.stdout.contains("DIFFERENT"))
        #expect(try CLIRunner.run([Self.fp32, b, "--baseline", baseline, "--brief"]).stdout.hasPrefix("NO-REGRESSION (exit 0): "))

        // one tensor damaged beyond the baseline: counted once, its statistics listed under it
        let fp16Baseline = directory.appendingPathComponent("fp16-baseline.json").path
        _ = try CLIRunner.run([Self.fp32, Self.fp16, "--save-baseline", fp16Baseline])
        let victim = "model.diffusion_model.input_blocks.0.0.weight"
        let damaged = directory.appendingPathComponent("damaged.safetensors").path
        try CheckpointEdits.copy(of: Self.fp16, to: damaged, change: { name, bytes, _ in
            name == victim ? CheckpointEdits.settingF16(bytes, index: 0, bits: 0x3C00) : bytes
        })
        let regressed = try CLIRunner.run([Self.fp32, damaged, "--baseline", fp16Baseline])
        #expect(regressed.status == 1)
        #expect(regressed.stdout.contains("verdict: REGRESSED (exit 1): 1 regression against the baseline"), "\(regressed.stdout.prefix(800))")
        #expect(regressed.stdout.contains(": 1 regression, "))
        let lines = regressed.stdout.split(separator: "\n").map(String.init)
        let at = try #require(lines.firstIndex(of: "    regression: \(victim)"))
        let details = lines[(at + 1)...].prefix { $0.hasPrefix("      ") }
        #expect(details.contains { $0.contains("max_abs") } && details.contains { $0.contains("rel_l2") }, "\(details)")
    }

    @Test("GitHub annotations and batch Markdown name paths relative to the working directory")
    func relativePaths() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let fixture = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors")
        // swift test runs in the package root, which holds the fixtures
        try #require(fixture.hasPrefix(cwd + "/"), "\(fixture) is not under \(cwd)")
        let relative = String(fixture.dropFirst(cwd.count + 1))
        let outcome = try CLIRunner.run([Self.fp32, fixture, "--fail-on", "dtype", "--github"], environment: ["GITHUB_STEP_SUMMARY": ""])
        let annotations = outcome.stdout.split(separator: "\n").filter { $0.hasPrefix("::error ") }
        #expect(!annotations.isEmpty && annotations.allSatisfy { $0.hasPrefix("::error file=\(relative),") }, "\(annotations)")
        #expect(GitHubCommand.relative("/w/repo/models/b.safetensors", to: "/w/repo") == "models/b.safetensors")
        #expect(GitHubCommand.relative("/w/repo/models/b.safetensors", to: "/w/repo/") == "models/b.safetensors")
        #expect(GitHubCommand.relative("/w/other/b.safetensors", to: "/w/repo") == "/w/other/b.safetensors")
        #expect(GitHubCommand.relative("/w/repository/b", to: "/w/repo") == "/w/repository/b")
        #expect(GitHubCommand.relative("b.safetensors", to: "/w/repo") == "b.safetensors")
    }
}
