#include "CCPUID.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

int ntrain_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
    memset(regs, 0, 4 * sizeof(uint32_t));
    /* __get_cpuid_max checks the leaf against the highest leaf of its range (basic or extended). */
    if (__get_cpuid_max(leaf & 0x80000000u, 0) < leaf) return 0;
    __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
    return 1;
}

uint64_t ntrain_xgetbv0(void) {
    uint32_t eax, edx;
    /* The mnemonic needs no -mxsave; the caller has checked OSXSAVE. */
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
#else
int ntrain_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
    (void)leaf; (void)subleaf;
    memset(regs, 0, 4 * sizeof(uint32_t));
    return 0;
}
uint64_t ntrain_xgetbv0(void) { return 0; }
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
uint64_t ntrain_hwcap(void) { return getauxval(AT_HWCAP); }
uint64_t ntrain_hwcap2(void) { return getauxval(AT_HWCAP2); }
#else
uint64_t ntrain_hwcap(void) { return 0; }
uint64_t ntrain_hwcap2(void) { return 0; }
#endif
