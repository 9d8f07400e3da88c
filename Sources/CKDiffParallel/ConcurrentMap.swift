import Dispatch

/// Runs `body` for every index of `0..<count` on all cores and returns the results in index order.
///
/// When bodies throw, the error of the lowest index is thrown, so that what a user is told does not
/// depend on which thread finished first. `body` must be safe to run concurrently with itself.
package func concurrentMap<T, E: Error>(count: Int, _ body: (Int) throws(E) -> T) throws(E) -> [T] {
    guard count > 1 else { return try (0..<count).map { i throws(E) in try body(i) } }
    let slots = ResultSlots<T, E>(count)
    withoutActuallyEscaping(body) { body in
        // The caller promises `body` may run concurrently with itself (the doc comment above).
        let shared = UncheckedBody(body)
        DispatchQueue.concurrentPerform(iterations: count) { index in
            slots.set(index, Result { () throws(E) in try shared.body(index) })
        }
    }
    return try slots.values()
}

private struct UncheckedBody<T, E: Error>: @unchecked Sendable {
    let body: (Int) throws(E) -> T
    init(_ body: @escaping (Int) throws(E) -> T) { self.body = body }
}

/// One result slot per index, each written by one thread of a `concurrentPerform`, read after all finished.
private final class ResultSlots<T, E: Error>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Result<T, E>?>
    private let count: Int

    init(_ count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func set(_ index: Int, _ result: Result<T, E>) {
        slots[index] = result
    }

    /// The values in index order, or the first error.
    func values() throws(E) -> [T] {
        var values: [T] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            guard let result = slots[index] else { preconditionFailure("result slot \(index) was not written") }
            values.append(try result.get())
        }
        return values
    }
}
