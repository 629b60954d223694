import Foundation

/// A tiny HTTP/1.1 file server on 127.0.0.1 (POSIX sockets, one connection at a time) with fault
/// modes, so download tests exercise real TCP through URLSession.
final class TestHTTPServer: @unchecked Sendable {
    enum Fault {
        /// Answer 404.
        case notFound
        /// Announce the full length, send only `bytes` of the body, then close; for the first `times` requests.
        case dropAfter(bytes: Int, times: Int)
        /// Serve these bytes instead of the real file.
        case wrongContent(Data)
        /// Answer 200 with the whole file even when a Range is asked for.
        case ignoreRange
        /// Answer 503 for the first `times` requests.
        case unavailable(times: Int)
    }

    struct Request { let path: String; let range: String? }

    private let lock = NSLock()
    private var files: [String: Data] = [:]
    private var faults: [String: Fault] = [:]
    private var served: [String: Int] = [:]
    private var log: [Request] = []
    private var listener: Int32 = -1
    private(set) var port: UInt16 = 0
    private var thread: Thread?
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    func serve(_ path: String, _ data: Data) { lock.lock(); files[path] = data; lock.unlock() }
    func setFault(_ path: String, _ fault: Fault?) { lock.lock(); faults[path] = fault; served[path] = 0; lock.unlock() }
    var requests: [Request] { lock.lock(); defer { lock.unlock() }; return log }
    func clearLog() { lock.lock(); log = []; lock.unlock() }

    func start() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        let t = Thread { [self] in acceptLoop() }
        thread = t
        t.start()
    }

    /// Stops accepting and waits for the accept thread to end before the socket is closed: closing it
    /// first let the kernel hand the same descriptor number to the next test's listener, and this
    /// server's thread, back from a late request, then accepted (and answered) the next test's requests.
    func stop() {
        lock.lock(); let already = stopping; stopping = true; lock.unlock()
        if already { return }
        shutdown(listener, Int32(SHUT_RDWR))
        if thread != nil { finished.wait() }
        close(listener)
    }

    private func acceptLoop() {
        defer { finished.signal() }
        while true {
            lock.lock(); let s = stopping; lock.unlock()
            if s { return }
            let fd = accept(listener, nil, nil)
            if fd < 0 { continue }
            handle(fd)
            close(fd)
        }
    }

    private func handle(_ fd: Int32) {
        var request = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while !request.containsHeaderEnd {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { return }
            request += buf[0..<n]
        }
        let text = String(decoding: request, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let path = String(parts[1])
        let range = lines.first { $0.lowercased().hasPrefix("range:") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) }
        lock.lock()
        log.append(Request(path: path, range: range))
        let file = files[path]
        let fault = faults[path]
        let count = served[path, default: 0]
        served[path] = count + 1
        lock.unlock()

        guard var body = file else { return respond(fd, status: "404 Not Found", headers: [], body: Data("no such file".utf8)) }
        var honourRange = true
        var dropAt: Int?
        switch fault {
        case .notFound?: return respond(fd, status: "404 Not Found", headers: [], body: Data())
        case .unavailable(let times)? where count < times:
            return respond(fd, status: "503 Service Unavailable", headers: [], body: Data())
        case .wrongContent(let d)?: body = d
        case .ignoreRange?: honourRange = false
        case .dropAfter(let bytes, let times)? where count < times: dropAt = bytes
        default: break
        }
        var start = 0
        if honourRange, let r = range, r.hasPrefix("bytes="), r.hasSuffix("-"), let s = Int(r.dropFirst(6).dropLast()) {
            start = s
        }
        if start >= body.count && start > 0 {
            return respond(fd, status: "416 Range Not Satisfiable", headers: ["Content-Range: bytes */\(body.count)"], body: Data())
        }
        let slice = body.subdata(in: start..<body.count)
        let status = start > 0 ? "206 Partial Content" : "200 OK"
        let headers = start > 0 ? ["Content-Range: bytes \(start)-\(body.count - 1)/\(body.count)"] : []
        respond(fd, status: status, headers: headers + ["Accept-Ranges: bytes"], body: slice, sendOnly: dropAt)
    }

    private func respond(_ fd: Int32, status: String, headers: [String], body: Data, sendOnly: Int? = nil) {
        var head = "HTTP/1.1 \(status)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for h in headers { head += h + "\r\n" }
        head += "\r\n"
        sendAll(fd, Data(head.utf8))
        sendAll(fd, sendOnly.map { body.prefix($0) } ?? body)
        if sendOnly != nil { usleep(20_000) }
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private func sendAll(_ fd: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                off += n
            }
        }
    }
}

private extension Array where Element == UInt8 {
    var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 { return true }
        return false
    }
}
