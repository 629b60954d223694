#ifndef NTRAIN_CCPUID_H
#define NTRAIN_CCPUID_H
/* The CPU's own description of itself, for NTrainCPU (which cannot issue these instructions from Swift). */
#include <stdint.h>

/* x86-64: CPUID leaf/subleaf into regs (eax, ebx, ecx, edx). Returns 0 when the leaf is above the CPU's
   highest basic or extended leaf (regs are then zero), 1 otherwise. Always 0 on other architectures. */
int ntrain_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

/* x86-64: XCR0, the register state the OS saves on context switch (SSE, AVX, AVX-512 bits). Only
   call when CPUID says OSXSAVE. 0 on other architectures. */
uint64_t ntrain_xgetbv0(void);

/* AArch64 Linux: getauxval(AT_HWCAP) and getauxval(AT_HWCAP2). 0 elsewhere. */
uint64_t ntrain_hwcap(void);
uint64_t ntrain_hwcap2(void);

#endif
