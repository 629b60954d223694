import NTrainCore

extension CUDAHostEmulator {
    /// What CUDA C needs to compile as host C++: the thread-index built-ins, `__syncthreads`, the
    /// function qualifiers, and the few device intrinsics the kernels use. Prepended to every kernel
    /// unit (before `CUDAKernels.prelude`).
    ///
    /// `__shared__` becomes a function-static variable: blocks run one at a time, so each block's
    /// threads share it and no two blocks see it at once, as on a GPU.
    static let deviceHeader = #"""
    // ntrain CUDA host emulator: CUDA C compiled for the CPU.
    #include <math.h>
    #include <string.h>
    #include <stdint.h>
    struct dim3 { unsigned int x, y, z; };
    extern "C" {
    extern dim3 ntemu_thread_index, ntemu_block_index, ntemu_block_dim, ntemu_grid_dim;
    void ntemu_syncthreads(void);
    }
    #define threadIdx ntemu_thread_index
    #define blockIdx ntemu_block_index
    #define blockDim ntemu_block_dim
    #define gridDim ntemu_grid_dim
    #define __global__
    #define __device__
    #define __host__
    #define __forceinline__ inline
    #define __restrict__ __restrict
    #define __shared__ static
    #define __syncthreads() ntemu_syncthreads()
    static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
    static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
    // CUDA's overloaded integer and float min/max.
    static inline int min(int a, int b) { return a < b ? a : b; }
    static inline int max(int a, int b) { return a > b ? a : b; }
    static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
    static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
    static inline long long min(long long a, long long b) { return a < b ? a : b; }
    static inline long long max(long long a, long long b) { return a > b ? a : b; }
    static inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
    static inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
    static inline float min(float a, float b) { return fminf(a, b); }
    static inline float max(float a, float b) { return fmaxf(a, b); }
    static inline double min(double a, double b) { return fmin(a, b); }
    static inline double max(double a, double b) { return fmax(a, b); }

    """#

    /// Whether kernel `name` of `unit` may wait at a block barrier (`__syncthreads`, directly or
    /// through the prelude's block reductions). Barrier-free kernels run their threads one after
    /// another on the caller's stack instead of as fibers (much faster). A kernel whose definition
    /// is not found literally (made by a macro) counts as barrier-free only when nothing in its
    /// unit uses a barrier.
    static func usesBarrier(_ name: String, in unit: CUDAKernelSource) -> Bool {
        let tokens = ["__syncthreads", "nt_block_sum", "nt_block_max"]
        let body = String(unit.source.dropFirst(CUDAKernels.prelude.count))
        guard tokens.contains(where: { body.contains($0) }) else { return false }
        guard let start = body.range(of: "void \(name)(") else { return true }
        let rest = body[start.upperBound...]
        let end = rest.range(of: "extern \"C\"")?.lowerBound ?? rest.endIndex
        return tokens.contains { rest[..<end].contains($0) }
    }

    /// Appended to each unit: per kernel, `ntemu_entry_NAME(params)` runs one thread of the kernel
    /// with its arguments read from `cuLaunchKernel`'s parameter array, `ntemu_arity_NAME()` gives
    /// the parameter count, so the driver can refuse a launch with missing parameters, and
    /// `ntemu_barrier_NAME()` whether its threads must run as fibers.
    static func launchers(for unit: CUDAKernelSource) -> String {
        let entryPoints = unit.entryPoints
        var text = #"""

        // Launchers: unpack cuLaunchKernel's void** into each kernel's typed parameters.
        template <unsigned long... I> struct ntemu_indices {};
        template <unsigned long N, unsigned long... I> struct ntemu_make : ntemu_make<N - 1, N - 1, I...> {};
        template <unsigned long... I> struct ntemu_make<0, I...> { typedef ntemu_indices<I...> type; };
        template <class T> struct ntemu_bare { typedef T type; };
        template <class T> struct ntemu_bare<T&> { typedef T type; };
        template <class T> struct ntemu_bare<const T&> { typedef T type; };
        template <class... A, unsigned long... I>
        static inline void ntemu_apply(void (*f)(A...), void** p, ntemu_indices<I...>) {
            f(*static_cast<typename ntemu_bare<A>::type*>(p[I])...);
        }
        template <class... A> static inline void ntemu_run(void (*f)(A...), void** p) {
            ntemu_apply(f, p, typename ntemu_make<sizeof...(A)>::type());
        }
        template <class... A> static inline int ntemu_count(void (*)(A...)) { return (int)sizeof...(A); }

        """#
        for name in entryPoints {
            text += "extern \"C\" void ntemu_entry_\(name)(void** p) { ntemu_run(\(name), p); }\n"
            text += "extern \"C\" int ntemu_arity_\(name)(void) { return ntemu_count(\(name)); }\n"
            text += "extern \"C\" int ntemu_barrier_\(name)(void) { return \(usesBarrier(name, in: unit) ? 1 : 0); }\n"
        }
        return text
    }
}
