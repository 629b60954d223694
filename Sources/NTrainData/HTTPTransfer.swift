import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How one HTTP request for a file ended.
enum TransferOutcome: Equatable {
    /// The whole body arrived and was written.
    case complete
    /// 404 or 410: this location does not have the file.
    case notFound(status: Int)
    /// 416: the partial file is already as long as the server's copy (or longer).
    case rangeNotSatisfiable
    /// Another status: 5xx are worth retrying, other 4xx are not.
    case badStatus(Int)
    /// The connection failed or dropped, or the body was shorter than announced.
    case failed(String)
    /// Writing the local part file failed (a full disk, a read-only folder): not worth retrying
    /// and not the network's fault.
    case localWrite(String)
}

/// One GET through URLSession that streams the body into `NAME.part`, resuming at the part's current
/// length with an HTTP Range request. A 206 answer is appended at the right offset; a 200 answer
/// (server ignored the range) rewrites the part from the start.
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let url: URL
    private let partPath: String
    private let timeout: TimeInterval
    private let onProgress: (Int64, Int64?) -> Void
    private var fd: Int32 = -1
    private var offset: Int64 = 0
    private var written: Int64 = 0
    private var expectedBody: Int64 = -1
    private var total: Int64?
    private var outcome: TransferOutcome?
    private var writeError: String?
    private let done = DispatchSemaphore(value: 0)

    init(url: URL, partPath: String, timeout: TimeInterval, onProgress: @escaping (Int64, Int64?) -> Void) {
        self.url = url
        self.partPath = partPath
        self.timeout = timeout
        self.onProgress = onProgress
    }

    /// Runs the request to completion (blocking) and says how it ended.
    func run() -> TransferOutcome {
        fd = open(partPath, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else { return .localWrite("cannot open \(partPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        offset = Int64(lseek(fd, 0, SEEK_END))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        request.setValue("ntrain", forHTTPHeaderField: "User-Agent")
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.urlCache = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: config, delegate: self, delegateQueue: queue)
        session.dataTask(with: request).resume()
        done.wait()
        session.finishTasksAndInvalidate()
        return outcome ?? .failed("no answer")
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            outcome = .failed("not an HTTP response")
            completionHandler(.cancel)
            return
        }
        let length = response.expectedContentLength
        switch http.statusCode {
        case 206:
            let range = (http.value(forHTTPHeaderField: "Content-Range") ?? "")
            guard let start = Self.rangeStart(range), start == offset else {
                // The server resumed somewhere else: start over rather than splice wrong bytes.
                _ = ftruncate(fd, 0)
                outcome = .failed("server answered Range \(offset)- with '\(range)'; restarting from zero")
                completionHandler(.cancel)
                return
            }
            expectedBody = length
            total = Self.rangeTotal(range) ?? (length >= 0 ? offset + length : nil)
            lseek(fd, off_t(offset), SEEK_SET)
        case 200:
            // A full body: either no range was asked or the server does not support ranges.
            _ = ftruncate(fd, 0)
            lseek(fd, 0, SEEK_SET)
            offset = 0
            expectedBody = length
            total = length >= 0 ? length : nil
        case 404, 410:
            outcome = .notFound(status: http.statusCode)
            completionHandler(.cancel)
            return
        case 416:
            outcome = .rangeNotSatisfiable
            completionHandler(.cancel)
            return
        default:
            outcome = .badStatus(http.statusCode)
            completionHandler(.cancel)
            return
        }
        onProgress(offset, total)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        // Nothing is written once the answer was judged (a 404 page must not land in the part file).
        guard writeError == nil, outcome == nil else { return }
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    writeError = "write to \(partPath) failed: \(String(cString: strerror(errno)))"
                    return
                }
                done += n
            }
        }
        if writeError != nil { dataTask.cancel(); return }
        written += Int64(data.count)
        onProgress(offset + written, total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if outcome == nil {
            if let w = writeError {
                outcome = .localWrite(w)
            } else if let error = error {
                outcome = .failed("\(error.localizedDescription) after \(offset + written) bytes")
            } else if expectedBody >= 0 && written < expectedBody {
                outcome = .failed("connection closed after \(offset + written) of \(offset + expectedBody) bytes")
            } else {
                outcome = .complete
            }
        }
        done.signal()
    }

    /// The first byte of a `Content-Range: bytes START-END/TOTAL` value.
    static func rangeStart(_ value: String) -> Int64? {
        guard let r = value.range(of: "bytes ") else { return nil }
        let rest = value[r.upperBound...]
        guard let dash = rest.firstIndex(of: "-") else { return nil }
        return Int64(rest[rest.startIndex..<dash].trimmingCharacters(in: .whitespaces))
    }

    static func rangeTotal(_ value: String) -> Int64? {
        guard let slash = value.lastIndex(of: "/") else { return nil }
        return Int64(value[value.index(after: slash)...].trimmingCharacters(in: .whitespaces))
    }
}
