#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file opened for reading only, read with positioned reads.
///
/// ckdiff never opens an input any other way: there is no write mode to get
/// wrong. Positioned reads (`pread`) need no shared file position, so any number
/// of threads can read one `ReadOnlyFile` at once. The descriptor closes when the
/// value is released.
public final class ReadOnlyFile: Sendable {
    /// The path as given.
    public let path: String
    /// The file's size in bytes when it was opened.
    public let size: Int64
    private let descriptor: Int32

    /// Opens `path` for reading.
    ///
    /// Fails for anything that is not a regular file (a directory, a FIFO, a device, a socket),
    /// without blocking: the file is opened with `O_NONBLOCK`, so a FIFO with no writer does not
    /// hang the open, and its type is checked with `fstat` before anything is read. The flag is
    /// cleared again for a regular file (where it has no effect on reads anyway).
    ///
    /// The corresponding C functions are `open`, `fstat` and `fcntl`.
    public init(path: String) throws(SafetensorsError) {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        if fd < 0 {
            throw SafetensorsError(file: path, kind: .io("cannot open: \(ReadOnlyFile.errnoText())"))
        }
        var status = stat()
        if fstat(fd, &status) != 0 {
            let text = ReadOnlyFile.errnoText()
            close(fd)
            throw SafetensorsError(file: path, kind: .io("cannot stat: \(text)"))
        }
        if let what = ReadOnlyFile.notRegularText(mode: status.st_mode) {
            close(fd)
            throw SafetensorsError(file: path, kind: .io(what))
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        self.path = path
        self.size = Int64(status.st_size)
        self.descriptor = fd
    }

    /// What a file of this mode is, as "is a FIFO, not a regular file", or nil for a regular file.
    package static func notRegularText(mode: mode_t) -> String? {
        let what: String
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "is a directory, not a regular file"
        case S_IFIFO: what = "a FIFO (named pipe)"
        case S_IFCHR: what = "a character device"
        case S_IFBLK: what = "a block device"
        case S_IFSOCK: what = "a socket"
        default: what = "not a regular file"
        }
        return what == "not a regular file" ? "is not a regular file" : "is \(what), not a regular file"
    }

    deinit {
        close(descriptor)
    }

    /// Reads exactly `count` bytes at `offset` into `buffer`.
    ///
    /// Retries interrupted and short reads; fails if the file ends first (it was
    /// truncated after it was opened) or the read fails.
    ///
    /// The corresponding C function is `pread`.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64) throws(SafetensorsError) {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SafetensorsError(file: path, kind: .io("read failed at byte \(offset + Int64(done)): \(ReadOnlyFile.errnoText())"))
            }
            if n == 0 {
                throw SafetensorsError(file: path, kind: .io("file ended at byte \(offset + Int64(done)) while reading; was it truncated while ckdiff ran?"))
            }
            done += n
        }
    }

    /// Reads `count` bytes at `offset` into a new array.
    public func readBytes(count: Int, at offset: Int64) throws(SafetensorsError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result: Result<Void, SafetensorsError> = bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress, count > 0 else { return .success(()) }
            do throws(SafetensorsError) { try read(into: base, count: count, at: offset); return .success(()) }
            catch { return .failure(error) }
        }
        try result.get()
        return bytes
    }

    /// Tells the kernel the file will be read sequentially (a hint; failures are ignored).
    ///
    /// The corresponding C function is `posix_fadvise` on Linux and `fcntl(F_RDAHEAD)` on Darwin,
    /// which has no `posix_fadvise`.
    public func adviseSequential() {
        #if os(Linux)
        _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #elseif canImport(Darwin)
        _ = fcntl(descriptor, F_RDAHEAD, 1)
        #else
        #error("adviseSequential: say how this platform is told about sequential reads")
        #endif
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
