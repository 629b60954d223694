import NTrainCore
@testable import NTrainEngine
import NTrainNN
import XCTest

/// The single-process side of data-parallel training: the launcher's variables, the gradient
/// buckets and the metric sums (the MPI side runs under mpirun in DistributedCLITests).
final class DistributedTests: XCTestCase {
    func testLaunchEnvironmentReadsOpenMPIPMIAndSlurm() {
        XCTAssertEqual(LaunchEnvironment([:]), LaunchEnvironment(rank: 0, worldSize: 1, source: nil))
        XCTAssertEqual(LaunchEnvironment(["OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4"]),
                       LaunchEnvironment(rank: 3, worldSize: 4, source: "OMPI_COMM_WORLD_SIZE"))
        XCTAssertEqual(LaunchEnvironment(["PMI_RANK": "1", "PMI_SIZE": "2"]).worldSize, 2)
        XCTAssertEqual(LaunchEnvironment(["SLURM_PROCID": "0", "SLURM_NTASKS": "1"]).isDistributed, false)
        XCTAssertEqual(LaunchEnvironment(["OMPI_COMM_WORLD_SIZE": "junk"]).source, nil)
    }

    func testOneProcessJoinsNoMPIAndALauncherOfOneFallsBackWithoutIt() throws {
        XCTAssertTrue(try ProcessGroups.join(LaunchEnvironment([:])) is SingleProcess)
        let alone = LaunchEnvironment(["SLURM_PROCID": "0", "SLURM_NTASKS": "1"])
        XCTAssertTrue(try ProcessGroups.join(alone, environment: ["NTRAIN_MPI_LIBRARY": "/nonexistent.so"]) is SingleProcess)
        let two = LaunchEnvironment(["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2"])
        XCTAssertThrowsError(try ProcessGroups.join(two, environment: ["NTRAIN_MPI_LIBRARY": "/nonexistent.so"])) { error in
            guard case DistributedError.noMPI(2, let reasons)? = error as? DistributedError else { return XCTFail("\(error)") }
            XCTAssertTrue(reasons[0].contains("/nonexistent.so"), "\(reasons)")
        }
    }

    func testBucketsHoldParametersInReverseOrderUpToTheCap() {
        let parameters = [Tensor.zeros([100]), Tensor.zeros([300]), Tensor.zeros([50]), Tensor.zeros([500])]
        // 1600 bytes a bucket: 500 alone (2000 bytes exceed it but a bucket holds at least one), then 50+300, then 100.
        let averager = GradientAverager(parameters: parameters, group: SingleProcess(), bucketBytes: 1600)
        XCTAssertEqual(averager.buckets, [[3], [2, 1], [0]])
        XCTAssertEqual(GradientAverager(parameters: parameters, group: SingleProcess()).buckets, [[3, 2, 1, 0]])
    }

    func testOneProcessLeavesGradientsAlone() throws {
        let p = Tensor(shape: [3], scalars: [1, 2, 3], requiresGrad: true)
        p.grad = Tensor(shape: [3], scalars: [0.5, -1, 2])
        try GradientAverager(parameters: [p], group: SingleProcess()).average()
        XCTAssertEqual(p.grad?.scalars, [0.5, -1, 2])
    }

    func testMetricSumsRoundTrip() throws {
        var m = ClassificationMetrics(classes: 3)
        m.add(scores: Tensor(shape: [2, 3], scalars: [0.1, 0.7, 0.2, 0.9, 0.05, 0.05]), targets: Tensor(shape: [2], int32s: [1, 2]), meanLoss: 0.75)
        var copy = ClassificationMetrics(classes: 3)
        copy.sums = m.sums
        XCTAssertEqual(copy, m)
        XCTAssertEqual(m.sums.count, 4 + 9)
        var r = RegressionMetrics()
        r.add(predictions: Tensor(shape: [2, 1], scalars: [1, 2]), targets: Tensor(shape: [2, 1], scalars: [0, 4]), meanLoss: 2.5)
        var rc = RegressionMetrics()
        rc.sums = r.sums
        XCTAssertEqual(rc, r)
    }
}
