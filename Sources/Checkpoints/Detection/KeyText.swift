/// Byte-level tests on tensor names, which are ASCII in practice.
///
/// `String.contains(_:)` goes through the generic substring searcher of
/// `_StringProcessing`, which dominated detection on a full-size header; these compare
/// UTF-8 bytes directly. They give the same answers as the `String` methods for any
/// UTF-8 text, because a UTF-8 needle matches only at scalar boundaries.
enum KeyText {
    /// Whether `needle` occurs in `text`.
    static func contains(_ text: String, _ needle: StaticString) -> Bool {
        let count = needle.utf8CodeUnitCount
        let start = needle.utf8Start
        var text = text
        return text.withUTF8 { bytes in
            guard count > 0 else { return true }
            guard bytes.count >= count, let base = bytes.baseAddress else { return false }
            let first = start[0]
            var i = 0
            let last = bytes.count - count
            while i <= last {
                if base[i] == first {
                    var j = 1
                    while j < count && base[i + j] == start[j] { j += 1 }
                    if j == count { return true }
                }
                i += 1
            }
            return false
        }
    }
}
