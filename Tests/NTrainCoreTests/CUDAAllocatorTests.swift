import Foundation
import XCTest
@testable import NTrainCore

/// "Device" memory in host RAM with a capacity, so the caching allocator's logic runs without a GPU.
final class HostMemoryBackend: CUDAMemoryBackend {
    let deviceIndex = 0
    let capacity: Int
    private(set) var used = 0
    private(set) var allocations = 0
    private(set) var frees = 0
    private var sizes: [CUDADevicePointer: Int] = [:]

    init(capacity: Int) { self.capacity = capacity }

    func allocate(byteCount: Int) throws -> CUDADevicePointer {
        guard used + byteCount <= capacity else {
            throw CUDAError.outOfMemory(requestedBytes: byteCount, freeBytes: capacity - used, device: deviceIndex)
        }
        let p = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 256)
        let address = CUDADevicePointer(UInt(bitPattern: p))
        sizes[address] = byteCount
        used += byteCount
        allocations += 1
        return address
    }

    func free(_ pointer: CUDADevicePointer) throws {
        guard let n = sizes.removeValue(forKey: pointer) else { return XCTFail("double free of \(pointer)") }
        used -= n
        frees += 1
        UnsafeMutableRawPointer(bitPattern: UInt(pointer))!.deallocate()
    }

    func freeBytes() -> Int? { capacity - used }

    func copy(from host: UnsafeRawPointer, to device: CUDADevicePointer, byteCount: Int) throws {
        UnsafeMutableRawPointer(bitPattern: UInt(device))!.copyMemory(from: host, byteCount: byteCount)
    }

    func copy(from device: CUDADevicePointer, to host: UnsafeMutableRawPointer, byteCount: Int) throws {
        host.copyMemory(from: UnsafeRawPointer(bitPattern: UInt(device))!, byteCount: byteCount)
    }
}

final class CUDAAllocatorTests: XCTestCase {
    private let mib = 1 << 20

    func testBucketSizes() {
        XCTAssertEqual(CUDAAllocator.bucketSize(0), 512)
        XCTAssertEqual(CUDAAllocator.bucketSize(1), 512)
        XCTAssertEqual(CUDAAllocator.bucketSize(512), 512)
        XCTAssertEqual(CUDAAllocator.bucketSize(513), 1024)
        XCTAssertEqual(CUDAAllocator.bucketSize(mib), mib)
        XCTAssertEqual(CUDAAllocator.bucketSize(mib + 1), 2 * mib)
        XCTAssertEqual(CUDAAllocator.bucketSize(5 * mib - 7), 5 * mib)
    }

    func testFreedBlocksAreReusedSoASteadyLoopStopsAllocating() throws {
        let backend = HostMemoryBackend(capacity: 64 * mib)
        let allocator = CUDAAllocator(backend: backend)
        // Three "steps" of a loop with the same tensor sizes.
        for _ in 0..<3 {
            let a = try allocator.allocate(byteCount: 1000)
            let b = try allocator.allocate(byteCount: 3 * mib + 5)
            let c = try allocator.allocate(byteCount: 1000)
            XCTAssertEqual(a.capacity, 1024)
            XCTAssertEqual(b.capacity, 4 * mib)
            XCTAssertNotEqual(a.address, c.address)
            XCTAssertEqual(allocator.allocatedBytes, 2048 + 4 * mib)
            _ = (a, b, c)
        }
        XCTAssertEqual(backend.allocations, 3, "only the first step reaches the device")
        XCTAssertEqual(allocator.backendAllocations, 3)
        XCTAssertEqual(allocator.allocatedBytes, 0)
        XCTAssertEqual(allocator.cachedBytes, 2048 + 4 * mib)
        XCTAssertEqual(allocator.peakAllocatedBytes, 2048 + 4 * mib)
        try allocator.emptyCache()
        XCTAssertEqual(allocator.cachedBytes, 0)
        XCTAssertEqual(backend.used, 0)
        XCTAssertEqual(backend.frees, 3)
    }

    func testCopiesRoundTripTensors() throws {
        let allocator = CUDAAllocator(backend: HostMemoryBackend(capacity: mib))
        let x = Tensor(shape: [3, 5], scalars: (0..<15).map { Float($0) * 0.25 - 1 })
        let buffer = try allocator.allocate(byteCount: x.count * 4)
        try buffer.upload(x)
        let y = Tensor(uninitialized: [3, 5])
        try buffer.download(into: y)
        XCTAssertEqual(y.scalars, x.scalars)
        let labels = Tensor(shape: [4], int32s: [3, 0, 9, 1])
        let lb = try allocator.allocate(byteCount: 16)
        try lb.upload(labels)
        let back = Tensor(uninitialized: [4], dtype: .int32)
        try lb.download(into: back)
        XCTAssertEqual((0..<4).map { back.int32Data[$0] }, [3, 0, 9, 1])
    }

    func testOutOfMemoryReleasesTheCacheThenRetries() throws {
        let backend = HostMemoryBackend(capacity: 64 * mib)
        let allocator = CUDAAllocator(backend: backend)
        do { _ = try allocator.allocate(byteCount: 40 * mib) }  // freed into the cache
        XCTAssertEqual(allocator.cachedBytes, 40 * mib)
        let b = try allocator.allocate(byteCount: 30 * mib)  // fits only once the cached 40 MiB is released
        XCTAssertEqual(backend.used, 30 * mib)
        XCTAssertEqual(allocator.cachedBytes, 0)
        XCTAssertEqual(allocator.backendAllocations, 2)
        XCTAssertEqual(b.capacity, 30 * mib)
    }

    func testOutOfMemoryReportsTheSizeAskedAndFreeMemory() throws {
        let backend = HostMemoryBackend(capacity: 64 * mib)
        let allocator = CUDAAllocator(backend: backend)
        let held = try allocator.allocate(byteCount: 30 * mib)
        XCTAssertThrowsError(try allocator.allocate(byteCount: 50 * mib - 3)) { error in
            XCTAssertEqual(error as? CUDAError, .outOfMemory(requestedBytes: 50 * mib - 3, freeBytes: 34 * mib, device: 0))
            XCTAssertTrue("\(error)".contains("asked for 50.0 MiB (52428797 bytes), 34.0 MiB free"), "\(error)")
        }
        XCTAssertEqual(allocator.allocatedBytes, 30 * mib, "a failed request changes nothing")
        _ = held
    }
}
