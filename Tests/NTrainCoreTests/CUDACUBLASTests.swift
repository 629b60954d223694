import Foundation
import XCTest
@testable import NTrainCore

/// cuBLAS loading without a GPU: failure paths, messages and where it is looked for.
final class CUDACUBLASTests: XCTestCase {
    func testMissingLibraryListsAttemptsAndTheFallback() {
        let result = CUBLAS.load(from: ["/nonexistent/libcublas.so.12"])
        guard case .failure(let error) = result, case .libraryNotFound(let tried) = error else {
            return XCTFail("expected libraryNotFound, got \(result)")
        }
        XCTAssertEqual(tried.count, 1)
        XCTAssertTrue(tried[0].hasPrefix("/nonexistent/libcublas.so.12 ("), tried[0])
        XCTAssertTrue(error.description.contains("pip install nvidia-cublas-cu12"), error.description)
        XCTAssertTrue(error.description.contains("gemm_f32"), error.description)
    }

    func testLibraryWithoutCUBLASSymbolsIsRejected() {
        XCTAssertThrowsError(try CUBLAS(library: "libz.so.1")) { error in
            XCTAssertEqual(error as? CUBLASError, .symbolMissing(library: "libz.so.1", symbol: "cublasCreate_v2"))
        }
        XCTAssertEqual(CUBLASError.callFailed(call: "cublasSgemm_v2", status: 7).description,
                       "cuBLAS call cublasSgemm_v2 failed with status 7 (CUBLAS_STATUS_INVALID_VALUE)")
    }

    func testCandidatesHonourTheVariableThenSonamesThenPipWheels() throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("ntrain-cublas-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: root) }
        let lib = root + "/.venv-gpu/lib/python3.12/site-packages/nvidia/cublas/lib"
        try fm.createDirectory(atPath: lib, withIntermediateDirectories: true)
        for name in ["libcublas.so.12", "libcublasLt.so.12"] { XCTAssertTrue(fm.createFile(atPath: lib + "/" + name, contents: Data())) }
        let found = CUBLAS.candidates(environment: ["NTRAIN_CUBLAS": "/x/libcublas.so.12"], workingDirectory: root)
        XCTAssertEqual(Array(found.prefix(2)), ["/x/libcublas.so.12", "libcublas.so.12"])
        XCTAssertTrue(found.contains(lib + "/libcublas.so.12"), "\(found)")
        XCTAssertFalse(found.contains(lib + "/libcublasLt.so.12"), "cublasLt is a different library")
    }
}
