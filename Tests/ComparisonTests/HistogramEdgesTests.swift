import Testing
@testable import Comparison

/// The histogram's edges are defined once, in the C kernel; the labels and Swift's bucketing follow them.
@Suite("Histogram edges: one definition")
struct HistogramEdgesTests {
    @Test("the labels spelled from the kernel's edges are the report keys docs/report-format.md lists")
    func labels() {
        #expect(TensorComparison.histogramBuckets == ["0", "<=1e-8", "<=1e-7", "<=1e-6", "<=1e-5", "<=1e-4",
                                                      "<=1e-3", "<=1e-2", "<=1e-1", "<=1", "<=10", ">10"])
        #expect(Kernels.histogramEdges == [0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10])
    }

    @Test("Swift's bucket of a value agrees with the edges (each edge belongs to the bucket it closes)")
    func buckets() {
        #expect(Kernels.bucket(of: 0) == 0)
        #expect(Kernels.bucket(of: 1e-8) == 1)
        #expect(Kernels.bucket(of: 1.5e-8) == 2)
        #expect(Kernels.bucket(of: 10) == 10)
        #expect(Kernels.bucket(of: 11) == 11)
    }
}
