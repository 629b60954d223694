// Float math that Swift cannot spell, or whose Swift spelling keeps loops from vectorising.
//
// Swift's `Float.squareRoot()` lowers to a call of libm's `sqrtf`, which may set errno for a
// negative argument, so loops over it stay scalar. Clang's elementwise builtin is the IEEE square
// root (correctly rounded, so the same bits as `sqrtf`; NaN for x < 0) without errno, and loops
// calling this inline function vectorise (`vsqrtps`).
static inline __attribute__((always_inline)) float ntrain_sqrtf(float x) { return __builtin_elementwise_sqrt(x); }

// Flush-to-zero for subnormal floats (|x| < 2⁻¹²⁶) on the calling thread: results that would be
// subnormal become ±0, and subnormal inputs read as ±0 (x86-64: MXCSR's FTZ and DAZ bits, as
// `torch.set_flush_denormal(True)` sets them; AArch64: FPCR.FZ). On x86 every operation that
// produces or reads a subnormal otherwise takes a microcode assist of ~100+ cycles.
#if defined(__x86_64__)
#include <xmmintrin.h>
static inline int ntrain_flushes_denormals(void) { return (_mm_getcsr() & 0x8040u) == 0x8040u; }
static inline void ntrain_set_flush_denormals(int on) {
    unsigned csr = _mm_getcsr();
    _mm_setcsr(on ? (csr | 0x8040u) : (csr & ~0x8040u));
}
#elif defined(__aarch64__)
static inline int ntrain_flushes_denormals(void) {
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr >> 24) & 1;
}
static inline void ntrain_set_flush_denormals(int on) {
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr = on ? (fpcr | (1ul << 24)) : (fpcr & ~(1ul << 24));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
#else
static inline int ntrain_flushes_denormals(void) { return 0; }
static inline void ntrain_set_flush_denormals(int on) { (void)on; }
#endif
