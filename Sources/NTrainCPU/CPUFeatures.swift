import CCPUID

/// What this CPU can run, read from the CPU itself: CPUID and XCR0 on x86-64, the kernel's
/// hardware capability bits on AArch64 Linux.
///
/// This is the one place in ntrain that knows the CPU: the engine's start-up check
/// (`EngineCPU`), the OpenBLAS kernel choice (`OpenBLASCoreChoice`) and `ntrain devices` all use
/// it. Features are named as Linux's /proc/cpuinfo names them (`abm` is LZCNT, `pni` is SSE3), so
/// they can be compared with that file. An AVX or AVX-512 feature counts only when the operating
/// system also saves its registers (XCR0), as the kernel's own flags do: a CPU that has AVX-512
/// under a hypervisor or OS that does not enable it is treated as not having it.
public struct CPUFeatures: Equatable, Sendable {
    /// The CPUID vendor string (`GenuineIntel`, `AuthenticAMD`, …); empty on other architectures.
    public var vendor: String
    /// The CPUID brand string, spaces collapsed; nil where the CPU has none.
    public var brand: String?
    /// The features present and usable, in /proc/cpuinfo's names.
    public var flags: Set<String>

    public init(vendor: String, brand: String? = nil, flags: Set<String>) {
        self.vendor = vendor
        self.brand = brand
        self.flags = flags
    }

    /// Whether every one of `names` is present.
    public func has(_ names: String...) -> Bool { names.allSatisfy(flags.contains) }

    /// Whether the vendor is AMD (or Hygon, whose CPUs are AMD Zen).
    public var isAMD: Bool { vendor == "AuthenticAMD" || vendor == "HygonGenuine" }

    /// The features this report knows how to detect, in a stable order for printing.
    public static let known: [String] = [
        "sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "abm", "movbe", "bmi1", "bmi2",
        "avx", "f16c", "fma", "avx2", "avx_vnni",
        "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512ifma", "avx512vbmi",
        "avx512_vnni", "avx512_bf16",
        "asimd", "asimddp", "sve", "sve2", "i8mm", "bf16",
    ]

    /// `flags` in the order of `known`.
    public var orderedFlags: [String] { Self.known.filter(flags.contains) }

    /// The features of the CPU this process runs on (read once).
    public static let current: CPUFeatures = detect()

    /// Reads the CPU's features now.
    public static func detect() -> CPUFeatures {
        #if arch(x86_64) || arch(i386)
        return detectX86()
        #elseif arch(arm64)
        return detectARM64(hwcap: ntrain_hwcap(), hwcap2: ntrain_hwcap2())
        #else
        return CPUFeatures(vendor: "", flags: [])
        #endif
    }

    /// AArch64 Linux's AT_HWCAP/AT_HWCAP2 bits (asm/hwcap.h) for the features that matter here.
    static func detectARM64(hwcap: UInt64, hwcap2: UInt64) -> CPUFeatures {
        var flags: Set<String> = []
        func bit(_ word: UInt64, _ index: Int, _ name: String) { if word & (1 << UInt64(index)) != 0 { flags.insert(name) } }
        bit(hwcap, 1, "asimd")
        bit(hwcap, 20, "asimddp")
        bit(hwcap, 22, "sve")
        bit(hwcap2, 1, "sve2")
        bit(hwcap2, 13, "i8mm")
        bit(hwcap2, 14, "bf16")
        return CPUFeatures(vendor: "", flags: flags)
    }

    private static func cpuid(_ leaf: UInt32, _ subleaf: UInt32 = 0) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32)? {
        var regs: [UInt32] = [0, 0, 0, 0]
        guard ntrain_cpuid(leaf, subleaf, &regs) != 0 else { return nil }
        return (regs[0], regs[1], regs[2], regs[3])
    }

    private static func detectX86() -> CPUFeatures {
        guard let leaf0 = cpuid(0) else { return CPUFeatures(vendor: "", flags: []) }
        let vendor = string(fromRegisters: [leaf0.ebx, leaf0.edx, leaf0.ecx])
        let leaf1 = cpuid(1)
        let leaf7 = cpuid(7, 0)
        let leaf7s1 = (leaf7?.eax ?? 0) >= 1 ? cpuid(7, 1) : nil
        let extended = cpuid(0x8000_0001)
        let osxsave = (leaf1?.ecx ?? 0) & (1 << 27) != 0
        return CPUFeatures(
            vendor: vendor, brand: brandString(),
            flags: x86Flags(leaf1: leaf1.map { ($0.ecx, $0.edx) }, leaf7: leaf7.map { ($0.ebx, $0.ecx) },
                            leaf7Subleaf1EAX: leaf7s1?.eax, extendedECX: extended?.ecx,
                            xcr0: osxsave ? ntrain_xgetbv0() : nil))
    }

    /// The features that CPUID's registers report, less those whose register state XCR0 says the OS
    /// does not save (nil XCR0: the OS has not enabled XSAVE, so no AVX at all). Pure, for tests.
    public static func x86Flags(
        leaf1: (ecx: UInt32, edx: UInt32)?, leaf7: (ebx: UInt32, ecx: UInt32)?, leaf7Subleaf1EAX: UInt32?,
        extendedECX: UInt32?, xcr0: UInt64?
    ) -> Set<String> {
        var flags: Set<String> = []
        func bit(_ word: UInt32?, _ index: Int, _ name: String) {
            if let word, word & (1 << UInt32(index)) != 0 { flags.insert(name) }
        }
        bit(leaf1?.edx, 25, "sse"); bit(leaf1?.edx, 26, "sse2")
        bit(leaf1?.ecx, 0, "pni"); bit(leaf1?.ecx, 9, "ssse3"); bit(leaf1?.ecx, 19, "sse4_1")
        bit(leaf1?.ecx, 20, "sse4_2"); bit(leaf1?.ecx, 22, "movbe"); bit(leaf1?.ecx, 23, "popcnt")
        bit(extendedECX, 5, "abm")
        bit(leaf7?.ebx, 3, "bmi1"); bit(leaf7?.ebx, 8, "bmi2")
        // AVX state: XMM (bit 1) and YMM (bit 2). AVX-512 state: opmask, ZMM_Hi256, Hi16_ZMM (bits 5-7).
        let avxState = xcr0.map { $0 & 0b110 == 0b110 } ?? false
        let avx512State = avxState && (xcr0.map { $0 & 0b1110_0000 == 0b1110_0000 } ?? false)
        if avxState {
            bit(leaf1?.ecx, 28, "avx"); bit(leaf1?.ecx, 29, "f16c"); bit(leaf1?.ecx, 12, "fma")
            bit(leaf7?.ebx, 5, "avx2"); bit(leaf7Subleaf1EAX, 4, "avx_vnni")
        }
        if avx512State {
            bit(leaf7?.ebx, 16, "avx512f"); bit(leaf7?.ebx, 17, "avx512dq"); bit(leaf7?.ebx, 21, "avx512ifma")
            bit(leaf7?.ebx, 28, "avx512cd"); bit(leaf7?.ebx, 30, "avx512bw"); bit(leaf7?.ebx, 31, "avx512vl")
            bit(leaf7?.ecx, 1, "avx512vbmi"); bit(leaf7?.ecx, 11, "avx512_vnni")
            bit(leaf7Subleaf1EAX, 5, "avx512_bf16")
        }
        return flags
    }

    private static func brandString() -> String? {
        var registers: [UInt32] = []
        for leaf: UInt32 in 0x8000_0002...0x8000_0004 {
            guard let r = cpuid(leaf) else { return nil }
            registers += [r.eax, r.ebx, r.ecx, r.edx]
        }
        let text = string(fromRegisters: registers)
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return collapsed.isEmpty ? nil : collapsed
    }

    /// CPUID strings are little-endian bytes in registers, NUL-padded.
    private static func string(fromRegisters registers: [UInt32]) -> String {
        var bytes: [UInt8] = []
        for r in registers { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((r >> UInt32(shift)) & 0xff)) } }
        return String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
