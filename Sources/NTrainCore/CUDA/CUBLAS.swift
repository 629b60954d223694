import Foundation

/// Why cuBLAS could not be loaded or a call failed.
public enum CUBLASError: Error, CustomStringConvertible, Equatable {
    /// No libcublas loaded; `tried` lists every attempt and why it failed.
    case libraryNotFound(tried: [String])
    case symbolMissing(library: String, symbol: String)
    /// A cuBLAS call returned a `cublasStatus_t` other than success.
    case callFailed(call: String, status: Int32)

    public var description: String {
        switch self {
        case let .libraryNotFound(tried):
            return "cuBLAS (libcublas) not found; tried: \(tried.joined(separator: ", ")). Install the CUDA toolkit, or "
                + "`pip install nvidia-cublas-cu12` and set NTRAIN_CUBLAS to its nvidia/cublas/lib/libcublas.so.12; "
                + "without it GEMMs use ntrain's own (slower) gemm_f32 kernel"
        case let .symbolMissing(library, symbol):
            return "\(library) is not a usable cuBLAS library: it lacks \(symbol)"
        case let .callFailed(call, status):
            return "cuBLAS call \(call) failed with status \(status) (\(CUBLASError.statusName(status)))"
        }
    }

    /// cublas_api.h's `cublasStatus_t` names.
    static func statusName(_ status: Int32) -> String {
        switch status {
        case 1: return "CUBLAS_STATUS_NOT_INITIALIZED"
        case 3: return "CUBLAS_STATUS_ALLOC_FAILED"
        case 7: return "CUBLAS_STATUS_INVALID_VALUE"
        case 8: return "CUBLAS_STATUS_ARCH_MISMATCH"
        case 11: return "CUBLAS_STATUS_MAPPING_ERROR"
        case 13: return "CUBLAS_STATUS_EXECUTION_FAILED"
        case 14: return "CUBLAS_STATUS_INTERNAL_ERROR"
        case 15: return "CUBLAS_STATUS_NOT_SUPPORTED"
        case 16: return "CUBLAS_STATUS_LICENSE_ERROR"
        default: return "unknown status"
        }
    }
}

/// cuBLAS SGEMM loaded with `dlopen`, with `Kernels.gemm`'s row-major contract. cuBLAS is
/// column-major, so a row-major C = op(A)·op(B) is computed as the column-major
/// Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap and so do m and n. cuBLAS works in the device's
/// primary context (the one `CUDAContext` uses), which must be current.
public final class CUBLAS: @unchecked Sendable {
    typealias CreateFn = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias DestroyFn = @convention(c) (OpaquePointer?) -> Int32
    typealias SgemmFn = @convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>, UInt64, Int32, UInt64, Int32,
        UnsafePointer<Float>, UInt64, Int32
    ) -> Int32
    typealias SgemmStridedBatchedFn = @convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>, UInt64, Int32, Int64, UInt64, Int32, Int64,
        UnsafePointer<Float>, UInt64, Int32, Int64, Int32
    ) -> Int32

    private static let noTranspose: Int32 = 0, transpose: Int32 = 1

    public let library: String
    private let cublasCreate: CreateFn
    private let cublasDestroy: DestroyFn
    private let cublasSgemm: SgemmFn
    private let cublasSgemmStridedBatched: SgemmStridedBatchedFn
    private var handle: OpaquePointer?

    /// Loads cuBLAS from `library` (a path or soname); no handle is created until the first GEMM.
    public init(library: String) throws {
        guard let lib = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw CUBLASError.libraryNotFound(tried: ["\(library) (\(dlerror().map { String(cString: $0) } ?? "dlopen failed"))"])
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let p = dlsym(lib, name) else {
                dlclose(lib)
                throw CUBLASError.symbolMissing(library: library, symbol: name)
            }
            return unsafeBitCast(p, to: type)
        }
        cublasCreate = try symbol("cublasCreate_v2", CreateFn.self)
        cublasDestroy = try symbol("cublasDestroy_v2", DestroyFn.self)
        cublasSgemm = try symbol("cublasSgemm_v2", SgemmFn.self)
        cublasSgemmStridedBatched = try symbol("cublasSgemmStridedBatched", SgemmStridedBatchedFn.self)
        self.library = library
    }

    deinit { if let handle { _ = cublasDestroy(handle) } }

    /// Where to look: `NTRAIN_CUBLAS` (file or directory), the toolkit's sonames and directory, and
    /// the `nvidia-cublas-cu12` wheel (`nvidia/cublas/lib/`).
    public static func candidates(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) -> [String] {
        CUDALibrarySearch.candidates(
            prefix: "libcublas.so", variable: "NTRAIN_CUBLAS", sonames: ["libcublas.so.12", "libcublas.so.13", "libcublas.so.11", "libcublas.so"],
            pipPackage: "cublas", environment: environment, workingDirectory: workingDirectory)
    }

    /// The first of `candidates` that loads, or every attempt and why it failed.
    public static func load(from candidates: [String] = CUBLAS.candidates()) -> Result<CUBLAS, CUBLASError> {
        var tried: [String] = []
        for path in candidates {
            do {
                return .success(try CUBLAS(library: path))
            } catch let CUBLASError.libraryNotFound(attempt) {
                tried += attempt
            } catch {
                tried.append("\(path) (\(error))")
            }
        }
        return .failure(.libraryNotFound(tried: tried))
    }

    private func check(_ status: Int32, _ call: String) throws {
        guard status == 0 else { throw CUBLASError.callFailed(call: call, status: status) }
    }

    private func currentHandle() throws -> OpaquePointer? {
        if handle == nil { try check(cublasCreate(&handle), "cublasCreate_v2") }
        return handle
    }

    /// Row-major C = alpha·op(A)·op(B) + beta·C on device pointers; op(A) is m×k, op(B) k×n, and
    /// lda/ldb/ldc are row strides (as `Kernels.gemm`). With `batch` > 1, matrix i starts
    /// `strideA`/`strideB`/`strideC` elements after matrix i − 1.
    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: CUDADevicePointer, lda: Int, strideA: Int = 0, b: CUDADevicePointer, ldb: Int, strideB: Int = 0,
        beta: Float = 0, c: CUDADevicePointer, ldc: Int, strideC: Int = 0, batch: Int = 1
    ) throws {
        guard m > 0, n > 0, batch > 0 else { return }
        let h = try currentHandle()
        var alpha = alpha, beta = beta
        let opA = transA ? CUBLAS.transpose : CUBLAS.noTranspose, opB = transB ? CUBLAS.transpose : CUBLAS.noTranspose
        // Column-major Cᵀ (n×m) = op(B)ᵀ (n×k) · op(A)ᵀ (k×m).
        if batch == 1 {
            try check(cublasSgemm(h, opB, opA, Int32(n), Int32(m), Int32(k), &alpha, b, Int32(ldb), a, Int32(lda),
                                  &beta, c, Int32(ldc)), "cublasSgemm_v2")
        } else {
            try check(cublasSgemmStridedBatched(h, opB, opA, Int32(n), Int32(m), Int32(k), &alpha, b, Int32(ldb), Int64(strideB),
                                                a, Int32(lda), Int64(strideA), &beta, c, Int32(ldc), Int64(strideC), Int32(batch)),
                      "cublasSgemmStridedBatched")
        }
    }
}
