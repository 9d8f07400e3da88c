#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps OpenBLAS's own thread pool from competing with ckdiff's workers.
///
/// ckdiff calls BLAS only on small cache-resident blocks from its own threads.
/// OpenBLAS starts a pool of threads when it is loaded, and those threads spin
/// (`sched_yield`) waiting for work for a while: measured here with `perf record -F 10000` on
/// a one-thread run of a 1 GB pair, about 770 samples (77 ms of CPU) in `sched_yield` and
/// `__schedule`, none with `OPENBLAS_NUM_THREADS=1`; on 2 cores that time is taken from the workers.
/// ``quiet()`` sets OpenBLAS to one thread and shuts the pool down; a later
/// multithreaded call would restart it, which ckdiff never makes. The symbols
/// are looked up at run time because netlib BLAS, which serves the same cblas
/// interface, has neither function (then this does nothing).
public enum BLASThreads {
    /// Quiets OpenBLAS's pool; safe to call any number of times, from any thread.
    public static func quiet() {
        _ = once
    }

    private static let once: Void = {
        #if canImport(Glibc)
        let process = UnsafeMutableRawPointer(bitPattern: 0)
        typealias SetThreads = @convention(c) (Int32) -> Void
        typealias Shutdown = @convention(c) () -> Int32
        if let symbol = dlsym(process, "openblas_set_num_threads") {
            unsafeBitCast(symbol, to: SetThreads.self)(1)
        }
        if let symbol = dlsym(process, "blas_thread_shutdown_") {
            _ = unsafeBitCast(symbol, to: Shutdown.self)()
        }
        #endif
    }()
}
