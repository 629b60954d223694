// Float math that Swift's own spelling keeps from vectorising.
//
// Swift's `Float.squareRoot()` lowers to a call of libm's `sqrtf`, which may set errno for a
// negative argument, so loops over it stay scalar. Clang's elementwise builtin is the IEEE square
// root (correctly rounded, so the same bits as `sqrtf`; NaN for x < 0) without errno, and loops
// calling this inline function vectorise (`vsqrtps`).
static inline __attribute__((always_inline)) float ntrain_sqrtf(float x) { return __builtin_elementwise_sqrt(x); }
