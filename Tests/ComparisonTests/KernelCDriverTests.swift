import CKDiffTestSupport
import Foundation
import Testing

/// The C test driver (Tests/KernelC/kernel_driver.c): every kernel level against the scalar level,
/// bit for bit, compiled with the Swift toolchain's clang, natively and for AArch64 under qemu.
enum KernelCDriver {
    static let repository = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()

    /// An executable of that name on PATH.
    static func onPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// The clang beside `swift` (the one SwiftPM compiles C with), else clang on PATH.
    static let clang: URL? = {
        if let swift = onPath("swift") {
            let sibling = swift.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("clang")
            if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        }
        return onPath("clang")
    }()

    /// Debian's AArch64 cross GCC directory (gcc-aarch64-linux-gnu), for clang's -B.
    static let crossGCC: URL? = {
        let base = URL(fileURLWithPath: "/usr/lib/gcc-cross/aarch64-linux-gnu")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
        return versions.sorted().last.map { base.appendingPathComponent($0) }
    }()

    static let qemu = onPath("qemu-aarch64")

    /// Whether the cross toolchain, the AArch64 C library and qemu are all installed.
    static var crossAvailable: Bool {
        clang != nil && crossGCC != nil && qemu != nil
            && FileManager.default.fileExists(atPath: "/usr/aarch64-linux-gnu/lib/libc.so.6")
    }

    static func sources() throws -> [String] {
        let shims = repository.appendingPathComponent("Sources/CKDiffShims")
        let cFiles = try FileManager.default.contentsOfDirectory(atPath: shims.path).filter { $0.hasSuffix(".c") }.sorted()
        #expect(cFiles.contains("vkernel.c"))
        return [repository.appendingPathComponent("Tests/KernelC/kernel_driver.c").path]
            + cFiles.map { shims.appendingPathComponent($0).path }
    }

    /// Runs a program; returns its exit status and standard output and error together.
    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func build(_ extra: [String], output: URL) throws {
        let clang = try #require(clang)
        let include = repository.appendingPathComponent("Sources/CKDiffShims/include").path
        let built = try run(clang, extra + ["-O2", "-Wno-psabi", "-I", include, "-o", output.path] + sources() + ["-lm"])
        #expect(built.status == 0, "clang: \(built.output)")
    }
}

@Suite("Kernel levels from C")
struct KernelCDriverTests {
    @Test("natively: every level this CPU runs is bit-identical to the scalar level",
          .enabled(if: KernelCDriver.clang != nil, "no clang beside swift or on PATH"))
    func native() throws {
        let dir = try Fixtures.temporaryDirectory("ckdiff-kernel-driver")
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = dir.appendingPathComponent("kernel_driver")
        try KernelCDriver.build([], output: program)
        let result = try KernelCDriver.run(program, [])
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("DIFFERS"), "\(result.output)")
        #expect(result.output.contains("bit-identical to scalar"), "\(result.output)")
    }

    @Test("AArch64 under qemu: the NEON level is bit-identical to the scalar level",
          .enabled(if: KernelCDriver.crossAvailable,
                   "needs qemu-user, gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (Scripts/install-deps installs them)"))
    func aarch64() throws {
        let dir = try Fixtures.temporaryDirectory("ckdiff-kernel-driver-arm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = dir.appendingPathComponent("kernel_driver")
        let gcc = try #require(KernelCDriver.crossGCC)
        try KernelCDriver.build(["--target=aarch64-linux-gnu", "-B", gcc.path], output: program)
        let qemu = try #require(KernelCDriver.qemu)
        let result = try KernelCDriver.run(qemu, ["-L", "/usr/aarch64-linux-gnu", program.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("neon: bit-identical to scalar"), "\(result.output)")
    }
}
