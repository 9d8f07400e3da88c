import CKDiffTestSupport
import Foundation
import Testing

@Suite("ckdiff policy: parsing, precedence, fail-on, the command line in process")
struct PolicyCLITests {
    static let fp32 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp32.safetensors")
    static let fp16 = Fixtures.path("reference/single_file/sdxl_tiny_sgm_fp16.safetensors")

    private func write(_ text: String, _ name: String = "policy.json") throws -> String {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("--print-default: torch.testing's table and the difference verdicts, as a policy file ckdiff reads back")
    func printDefault() throws {
        let outcome = try CLIRunner.run(["policy", "--print-default"])
        #expect(outcome.status == 0)
        let json = try CheckpointEdits.object(outcome.stdoutData)
        let dtypes = try #require(json["dtypes"] as? [String: [String: Double]])
        // torch.testing.assert_close's documented defaults
        #expect(dtypes["F16"] == ["atol": 1e-5, "rtol": 1e-3])
        #expect(dtypes["BF16"] == ["atol": 1e-5, "rtol": 1.6e-2])
        #expect(dtypes["F32"] == ["atol": 1e-5, "rtol": 1.3e-6])
        #expect(dtypes["F64"] == ["atol": 1e-7, "rtol": 1e-7])
        let failOn = try #require(json["fail_on"] as? [String])
        #expect(Array(failOn.prefix(5)) == ["missing", "extra", "ema-missing", "renamed", "tolerance"])
        #expect(Set(["out_of_tolerance", "nonfinite", "shape_mismatch", "not_compared", "cast_damage", "swapped"]).isSubset(of: Set(failOn)))
        for equivalent in ["within_tolerance", "identical", "exact_cast", "dtype_class_change", "dtype"] {
            #expect(!failOn.contains(equivalent))
        }
        let file = try write(outcome.stdout)
        let again = try CLIRunner.run(["policy", "--policy", file])
        #expect(again.status == 0)
        let reread = try CheckpointEdits.object(again.stdoutData)
        #expect(reread["dtypes"] as? [String: [String: Double]] == dtypes)
        #expect(reread["fail_on"] as? [String] == failOn)
    }

    @Test("layers: the file over the defaults, the command line over the file")
    func layers() throws {
        let file = try write(#"{"dtypes": {"F16": {"atol": 0.1, "rtol": 0.2}}, "tolerance": {"atol": 1e-3, "rtol": 1e-3}, "fail_on": ["missing", "dtype"]}"#)
        let outcome = try CLIRunner.run(["policy", "--policy", file, "--atol", "0.002", "--rtol", "0", "--fail-on", "only:default,coverage<99.5"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try CheckpointEdits.object(outcome.stdoutData)
        let dtypes = try #require(json["dtypes"] as? [String: [String: Double]])
        #expect(dtypes["F16"] == ["atol": 0.1, "rtol": 0.2])
        #expect(dtypes["BF16"] == ["atol": 1e-5, "rtol": 1.6e-2])
        #expect(json["tolerance"] as? [String: Double] == ["atol": 0.002, "rtol": 0])
        let failOn = try #require(json["fail_on"] as? [String])
        #expect(failOn.first == "missing" && failOn.last == "coverage<99.5" && !failOn.contains("dtype"))
        #expect(json["sources"] as? [String] == ["defaults", "file:\(file)", "command line"])
    }

    @Test("bad policy settings are trouble: exit 2, one line naming the file and the setting", arguments: [
        (#"{"tolerance": {"atol": 1e-3}}"#, "atol and rtol go together"),
        (#"{"components": {"unett": {"atol": 0, "rtol": 0}}}"#, "unknown component 'unett'"),
        (#"{"fail_on": ["missing", "bogus"]}"#, "unknown fail-on category 'bogus'"),
        (#"{"tolerances": {}}"#, "unknown setting 'tolerances'"),
        (#"{"dtypes": {"I64": {"atol": 1, "rtol": 0}}}"#, "always compared exactly"),
        (#"{"keys": [{"glob": "*", "atol": -1, "rtol": 0}]}"#, "finite numbers ≥ 0"),
        (#"{"fail_on": ["coverage<120"]}"#, "coverage<120"),
        ("{", "not valid JSON"),
    ])
    func badFile(text: String, expected: String) throws {
        let file = try write(text)
        for arguments in [["policy", "--policy", file], [Self.fp32, Self.fp32, "--policy", file]] {
            let outcome = try CLIRunner.run(arguments)
            #expect(outcome.status == 2)
            #expect(outcome.stdout.isEmpty)
            #expect(outcome.stderr.split(separator: "\n").count == 1)
            #expect(outcome.stderr.contains(file) && outcome.stderr.contains(expected), "\(outcome.stderr)")
        }
    }

    @Test("bad command-line settings exit 2", arguments: [
        ["--component-tolerance", "vae=1"], ["--component-tolerance", "text=1,1"], ["--key-tolerance", "=1,1"],
        ["--fail-on", "sometimes"], ["--atol", "-1", "--rtol", "0"],
    ])
    func badOptions(extra: [String]) throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp32] + extra)
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
    }

    /// The report's tensors by name.
    private func tensors(_ data: Data) throws -> [String: [String: Any]] {
        let list = try #require(try CheckpointEdits.object(data)["tensors"] as? [[String: Any]])
        return Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("precedence: key glob over component over fixed over dtype table; command line over file")
    func precedence() throws {
        let file = try write("""
            {"tolerance": {"atol": 1e-3, "rtol": 1e-3},
             "components": {"unet": {"atol": 0.01, "rtol": 0}, "vae": {"atol": 0.02, "rtol": 0}},
             "keys": [{"glob": "*.norm1.weight", "atol": 0.5, "rtol": 0}],
             "fail_on": ["missing"]}
            """)
        let cliGlob = "model.diffusion_model.out.2.bias"
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--policy", file, "--atol", "0.002", "--rtol", "0",
                                         "--component-tolerance", "vae=0.03,0", "--key-tolerance", "\(cliGlob)=0.7,0",
                                         "--json", "-"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try JSONSchemaValidator(schemaPath: CheckpointEdits.schema).violations(of: outcome.stdoutData).isEmpty)
        let all = try tensors(outcome.stdoutData)
        func expectRule(_ name: String, _ rule: String, _ atol: Double, _ rtol: Double) {
            let t = all[name]
            #expect(t?["tolerance_rule"] as? String == rule, "\(name)")
            #expect(t?["atol"] as? Double == atol && t?["rtol"] as? Double == rtol, "\(name)")
        }
        expectRule(cliGlob, "key:\(cliGlob)", 0.7, 0)
        let norm1 = all.keys.filter { $0.hasSuffix(".norm1.weight") }
        #expect(!norm1.isEmpty)
        for name in norm1 { expectRule(name, "key:*.norm1.weight", 0.5, 0) }
        let unet = try #require(all.first { $0.value["component"] as? String == "unet" && !$0.key.hasSuffix(".norm1.weight") && $0.key != cliGlob })
        expectRule(unet.key, "component:unet", 0.01, 0)
        let vae = try #require(all.first { $0.value["component"] as? String == "vae" && !$0.key.hasSuffix(".norm1.weight") })
        expectRule(vae.key, "component:vae", 0.03, 0)
        let clip = try #require(all.first { $0.value["component"] as? String == "clip_l" && !$0.key.hasSuffix(".norm1.weight") })
        expectRule(clip.key, "fixed", 0.002, 0)
        let json = try CheckpointEdits.object(outcome.stdoutData)
        let policy = try #require(json["policy"] as? [String: Any])
        #expect(policy["fail_on"] as? [String] == ["missing"])
        #expect((json["tolerance"] as? [String: Any])?["mode"] as? String == "fixed")

        let plain = try tensors(try CLIRunner.run([Self.fp32, Self.fp16, "--json", "-"]).stdoutData)
        #expect(plain[clip.key]?["tolerance_rule"] as? String == "dtype:F16")
        #expect(plain[clip.key]?["atol"] as? Double == 1e-5 && plain[clip.key]?["rtol"] as? Double == 1e-3)
    }

    @Test("the per-pair tolerance reaches the engine: VAE at 0/0 counts every changed element, the rest stays within")
    func toleranceReachesEngine() throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16, "--component-tolerance", "vae=0,0", "--json", "-"])
        #expect(outcome.status == 1)
        let json = try CheckpointEdits.object(outcome.stdoutData)
        let list = try #require(json["tensors"] as? [[String: Any]])
        var vaePairs = 0
        for t in list {
            let mismatched = try #require(t["mismatched"] as? Int)
            if t["component"] as? String == "vae" {
                vaePairs += 1
                // exact comparison: an element is outside the tolerance exactly when it changed at all
                let histogram = try #require(t["histogram"] as? [String: Int])
                #expect(mismatched == (t["numel"] as? Int ?? 0) - (histogram["0"] ?? 0), "\(t["name"] ?? "")")
            } else {
                #expect(mismatched == 0)
            }
        }
        #expect(vaePairs == 248)
        let gate = try #require(json["gate"] as? [String: Any])
        let triggered = try #require(gate["triggered"] as? [[String: Any]])
        // exact casts, so no difference verdict: only the tolerance check fires, and only in the VAE
        #expect(triggered.map { $0["category"] as? String } == ["tolerance"])
        #expect(triggered.map { $0["component"] as? String } == ["vae"])
        #expect((triggered.first?["offenders"] as? [String])?.count == 248)
    }

    @Test("fail-on decides the exit status", arguments: [
        (["--fail-on", "dtype"], 1),
        (["--fail-on", "default"], 0),
        (["--atol", "0", "--rtol", "0", "--fail-on", "only:missing,extra,shape"], 0),
        (["--atol", "0", "--rtol", "0", "--fail-on", "tolerance"], 1),
        (["--atol", "0", "--rtol", "0"], 1),
        (["--fail-on", "exact_cast"], 1),
        (["--fail-on", "within_tolerance"], 0),
        (["--fail-on", "coverage<100"], 0),
    ])
    func failOn(extra: [String], status: Int) throws {
        let outcome = try CLIRunner.run([Self.fp32, Self.fp16] + extra)
        #expect(Int(outcome.status) == status, "\(extra): \(outcome.stderr)")
    }

    @Test("coverage<PERCENT fails on a component a conversion dropped; ema-missing and tolerance do not")
    func coverage() throws {
        let directory = try Fixtures.temporaryDirectory()
        let b = directory.appendingPathComponent("no-vae.safetensors").path
        try CheckpointEdits.copy(of: Self.fp16, to: b) { !$0.hasPrefix("first_stage_model.") }
        let failing = try CLIRunner.run([Self.fp32, b, "--fail-on", "only:coverage<99", "--json", "-"])
        #expect(failing.status == 1)
        let gate = try #require(try CheckpointEdits.object(failing.stdoutData)["gate"] as? [String: Any])
        let triggered = try #require(gate["triggered"] as? [[String: Any]])
        #expect(triggered.map { $0["component"] as? String } == ["vae"])
        let passing = try CLIRunner.run([Self.fp32, b, "--fail-on", "only:ema-missing,tolerance,nonfinite"])
        #expect(passing.status == 0)
        let missing = try CLIRunner.run([Self.fp32, b, "--fail-on", "missing"])
        #expect(missing.status == 1)
    }
}

/// A gate that a typo or an unset variable cannot switch off (issue: `--fail-on ''`).
@Suite("ckdiff --fail-on: an empty list is refused, the command line in process")
struct EmptyFailOnTests {
    @Test("--fail-on with no category ('', ',,,', ' ') is trouble naming the option, before any comparison",
          arguments: ["", ",,,", " "])
    func emptyList(value: String) throws {
        let missing = "/nonexistent/never-opened.safetensors"
        let outcome = try CLIRunner.run([missing, missing, "--fail-on", value])
        #expect(outcome.status == 2)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("--fail-on names no category"), "\(outcome.stderr)")
    }
}
