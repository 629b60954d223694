extension CUDAHostEmulator {
    /// The emulated driver: the `libcuda` entry points `CUDADriver` loads, over host memory, with
    /// kernels run block by block; the threads of a kernel that waits at barriers run as fibers (so
    /// `__syncthreads` is a real barrier), those of other kernels one after another. It checks what a GPU would refuse or fault on:
    /// - launch shapes (block ≤ 1024 threads, x/y ≤ 1024, z ≤ 64, grid y/z ≤ 65535, ≤ 48 KiB
    ///   dynamic shared memory), a current context, and a non-null slot for every kernel parameter;
    /// - `cuModuleGetFunction` of a name that is not a `.entry` of the loaded PTX;
    /// - copies, fills and frees outside a live allocation;
    /// - kernel reads or writes past the end of an allocation: each allocation ends at an
    ///   inaccessible guard page, and the fault becomes `CUDA_ERROR_ILLEGAL_ADDRESS`, reported (as
    ///   on a GPU) by the next synchronising call.
    /// New allocations are filled with 0xFF bytes (float NaN), so reading memory nobody wrote shows.
    /// Device memory is 1 GiB unless `configure` or NTRAIN_EMULATOR_MEMORY (bytes, read by `cuInit`)
    /// says otherwise.
    static let runtimeSource = #"""
    // ntrain CUDA host emulator: the driver API over host memory.
    #include <dlfcn.h>
    #include <setjmp.h>
    #include <signal.h>
    #include <stdint.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/mman.h>
    #include <ucontext.h>
    #include <unistd.h>

    struct dim3 { unsigned int x, y, z; };
    typedef int CUresult;
    enum {
        OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, NO_DEVICE = 100, INVALID_DEVICE = 101,
        INVALID_IMAGE = 200, INVALID_CONTEXT = 201, INVALID_HANDLE = 400, NOT_FOUND = 500, ILLEGAL_ADDRESS = 700,
    };

    extern "C" {
    dim3 ntemu_thread_index, ntemu_block_index, ntemu_block_dim, ntemu_grid_dim;

    static int initialized = 0, device_count = 1, cc_major = 9, cc_minor = 0, multiprocessors = 2;
    static size_t capacity = (size_t)1 << 30, used = 0;
    static long launches = 0;
    static CUresult pending = OK;  // a kernel fault, reported by the next synchronising call
    static int contexts[64];
    static __thread void* current_context = 0;

    void ntemu_configure(int devices, size_t bytes, int major, int minor, int sms) {
        device_count = devices; capacity = bytes; cc_major = major; cc_minor = minor; multiprocessors = sms;
    }
    long ntemu_launch_count(void) { return launches; }
    size_t ntemu_bytes_in_use(void) { return used; }

    CUresult cuInit(unsigned flags) {
        if (flags) return INVALID_VALUE;
        // NTRAIN_EMULATOR_MEMORY: device memory in bytes, for out-of-memory tests of a whole program.
        const char* memory = getenv("NTRAIN_EMULATOR_MEMORY");
        if (!initialized && memory && *memory) capacity = (size_t)strtoull(memory, 0, 10);
        initialized = 1;
        return device_count ? OK : NO_DEVICE;
    }
    CUresult cuDriverGetVersion(int* v) { *v = 12040; return OK; }
    CUresult cuDeviceGetCount(int* n) { if (!initialized) return NOT_INITIALIZED; *n = device_count; return OK; }
    CUresult cuDeviceGet(int* d, int ordinal) {
        if (!initialized) return NOT_INITIALIZED;
        if (ordinal < 0 || ordinal >= device_count) return INVALID_DEVICE;
        *d = ordinal; return OK;
    }
    CUresult cuDeviceGetName(char* name, int len, int d) {
        if (d < 0 || d >= device_count) return INVALID_DEVICE;
        const char* base = "ntrain CUDA host emulator";
        size_t n = strlen(base);
        if ((int)n + 4 > len) return INVALID_VALUE;
        memcpy(name, base, n); name[n] = ' '; name[n + 1] = (char)('0' + d % 10); name[n + 2] = 0;
        return OK;
    }
    CUresult cuDeviceTotalMem_v2(size_t* bytes, int d) { if (d < 0 || d >= device_count) return INVALID_DEVICE; *bytes = capacity; return OK; }
    CUresult cuDeviceGetAttribute(int* v, int attribute, int d) {
        if (d < 0 || d >= device_count) return INVALID_DEVICE;
        switch (attribute) {
        case 75: *v = cc_major; return OK;
        case 76: *v = cc_minor; return OK;
        case 16: *v = multiprocessors; return OK;
        default: return INVALID_VALUE;
        }
    }
    CUresult cuDevicePrimaryCtxRetain(void** ctx, int d) {
        if (d < 0 || d >= device_count || d >= 64) return INVALID_DEVICE;
        *ctx = &contexts[d]; return OK;
    }
    CUresult cuCtxSetCurrent(void* ctx) {
        if (ctx && ((int*)ctx < contexts || (int*)ctx >= contexts + 64)) return INVALID_CONTEXT;
        current_context = ctx; return OK;
    }
    static CUresult take_pending(void) { CUresult r = pending; pending = OK; return r; }
    CUresult cuCtxSynchronize(void) { return current_context ? take_pending() : INVALID_CONTEXT; }

    // MARK: memory. Each allocation is mapped so that it ends at a PROT_NONE guard page.
    struct allocation { uintptr_t base; size_t size; void* map; size_t map_size; };
    static allocation* allocations = 0;
    static size_t allocation_count = 0, allocation_capacity = 0;

    static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }
    static allocation* find(uintptr_t p, size_t n) {
        for (size_t i = 0; i < allocation_count; i++) {
            allocation* a = &allocations[i];
            if (p >= a->base && p - a->base <= a->size && n <= a->size - (p - a->base)) return a;
        }
        return 0;
    }
    CUresult cuMemAlloc_v2(uint64_t* out, size_t n) {
        if (!current_context) return INVALID_CONTEXT;
        if (n == 0) return INVALID_VALUE;
        if (used + n > capacity) return OUT_OF_MEMORY;
        size_t page = page_size(), rounded = (n + 15) & ~(size_t)15;
        size_t data_pages = (rounded + page - 1) / page;
        size_t map_size = (data_pages + 1) * page;
        void* map = mmap(0, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) return OUT_OF_MEMORY;
        char* guard = (char*)map + data_pages * page;
        mprotect(guard, page, PROT_NONE);
        char* base = guard - rounded;  // 16-byte aligned, so a read just past the end faults
        memset(base, 0xFF, rounded);
        if (allocation_count == allocation_capacity) {
            allocation_capacity = allocation_capacity ? allocation_capacity * 2 : 64;
            allocations = (allocation*)realloc(allocations, allocation_capacity * sizeof(allocation));
        }
        allocation a = { (uintptr_t)base, n, map, map_size };
        allocations[allocation_count++] = a;
        used += n;
        *out = (uint64_t)(uintptr_t)base;
        return OK;
    }
    CUresult cuMemFree_v2(uint64_t p) {
        for (size_t i = 0; i < allocation_count; i++) {
            if (allocations[i].base == (uintptr_t)p) {
                munmap(allocations[i].map, allocations[i].map_size);
                used -= allocations[i].size;
                allocations[i] = allocations[--allocation_count];
                return OK;
            }
        }
        return INVALID_VALUE;
    }
    CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
        if (!current_context) return INVALID_CONTEXT;
        *free_bytes = used < capacity ? capacity - used : 0; *total = capacity; return OK;
    }
    CUresult cuMemcpyHtoD_v2(uint64_t d, const void* h, size_t n) {
        if (pending) return take_pending();
        if (!find((uintptr_t)d, n)) return INVALID_VALUE;
        memcpy((void*)(uintptr_t)d, h, n); return OK;
    }
    CUresult cuMemcpyDtoH_v2(void* h, uint64_t d, size_t n) {
        if (pending) return take_pending();
        if (!find((uintptr_t)d, n)) return INVALID_VALUE;
        memcpy(h, (void*)(uintptr_t)d, n); return OK;
    }
    CUresult cuMemsetD32_v2(uint64_t d, unsigned v, size_t n) {
        if ((d & 3) || !find((uintptr_t)d, n * 4)) return INVALID_VALUE;
        unsigned* p = (unsigned*)(uintptr_t)d;
        for (size_t i = 0; i < n; i++) p[i] = v;
        return OK;
    }

    // MARK: modules and functions
    struct module { char* ptx; };
    struct function { void (*entry)(void**); int (*arity)(void); int barrier; };
    static void* self_handle(void) {
        static void* handle = 0;
        if (!handle) {
            Dl_info info;
            if (dladdr((void*)&cuInit, &info) && info.dli_fname) handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        }
        return handle;
    }
    // Kernel units built after the library (CUDAHostEmulator.addUnit), searched after it.
    static void* extra_handles[64];
    static int extra_count = 0;
    int ntemu_add_library(const char* path) {
        if (extra_count == 64) return 0;
        void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) return 0;
        extra_handles[extra_count++] = h;
        return 1;
    }
    static void* kernel_symbol(const char* symbol) {
        void* p = dlsym(self_handle(), symbol);
        for (int i = extra_count - 1; !p && i >= 0; --i) p = dlsym(extra_handles[i], symbol);
        return p;
    }
    CUresult cuModuleLoadData(void** out, const void* image) {
        if (!current_context) return INVALID_CONTEXT;
        if (!image || !strstr((const char*)image, ".version") || !strstr((const char*)image, ".target")) return INVALID_IMAGE;
        module* m = (module*)malloc(sizeof(module));
        m->ptx = strdup((const char*)image);
        *out = m; return OK;
    }
    CUresult cuModuleGetFunction(void** out, void* m, const char* name) {
        if (!m) return INVALID_HANDLE;
        // The name must be an entry of the PTX the program loaded, as on a GPU.
        size_t n = strlen(name);
        const char* p = ((module*)m)->ptx;
        int declared = 0;
        while ((p = strstr(p, ".entry ")) != 0) {
            p += 7;
            if (strncmp(p, name, n) == 0 && (p[n] == '(' || p[n] == ' ' || p[n] == '\n')) { declared = 1; break; }
        }
        if (!declared) return NOT_FOUND;
        char symbol[256];
        if (n > 200) return NOT_FOUND;
        function* f = (function*)malloc(sizeof(function));
        strcpy(symbol, "ntemu_entry_"); strcat(symbol, name);
        f->entry = (void (*)(void**))kernel_symbol(symbol);
        strcpy(symbol, "ntemu_arity_"); strcat(symbol, name);
        f->arity = (int (*)(void))kernel_symbol(symbol);
        strcpy(symbol, "ntemu_barrier_"); strcat(symbol, name);
        int (*barrier)(void) = (int (*)(void))kernel_symbol(symbol);
        if (!f->entry || !f->arity || !barrier) { free(f); return NOT_FOUND; }
        f->barrier = barrier();
        *out = f; return OK;
    }

    // MARK: launches. One block at a time; its threads are fibers switched at __syncthreads.
    // A fiber starts with swapcontext (its own stack); later switches use _setjmp/_longjmp, which
    // save no signal mask, so a barrier costs no system call.
    enum { STACK_BYTES = 256 << 10, MAX_THREADS = 1024 };
    static ucontext_t scheduler, fibers[MAX_THREADS], fiber_template;
    static jmp_buf scheduler_jump, fiber_jump[MAX_THREADS];
    static unsigned char started[MAX_THREADS];
    static char* stacks[MAX_THREADS];
    static unsigned char finished[MAX_THREADS];
    static unsigned current, remaining;
    static function* running;
    static void** running_params;
    static sigjmp_buf fault_jump;
    static volatile sig_atomic_t in_kernel = 0;

    static int in_fibers = 0;
    void ntemu_syncthreads(void) {
        if (!in_fibers) abort();  // a kernel classified barrier-free reached a barrier: a bug in the emulator
        if (!_setjmp(fiber_jump[current])) _longjmp(scheduler_jump, 1);
    }

    static void fiber_main(void) {
        running->entry(running_params);
        finished[current] = 1;
        remaining--;
        _longjmp(scheduler_jump, 1);
    }

    static void on_fault(int sig, siginfo_t* info, void* uc) {
        if (in_kernel) { in_kernel = 0; siglongjmp(fault_jump, 1); }
        signal(sig, SIG_DFL);
        raise(sig);
    }

    static CUresult run_grid(function* f, dim3 grid, dim3 block, void** params) {
        unsigned threads = block.x * block.y * block.z;
        for (unsigned t = 0; t < threads; t++) {
            if (!stacks[t]) {
                stacks[t] = (char*)mmap(0, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (stacks[t] == MAP_FAILED) { stacks[t] = 0; return OUT_OF_MEMORY; }
            }
        }
        static int have_template = 0;
        if (!have_template) { getcontext(&fiber_template); have_template = 1; }
        running = f; running_params = params;
        ntemu_grid_dim = grid; ntemu_block_dim = block;
        static char alt_stack[1 << 16];
        stack_t alt = { alt_stack, 0, sizeof alt_stack }, old_alt;
        struct sigaction action, old_segv, old_bus;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = on_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        sigaltstack(&alt, &old_alt);
        sigaction(SIGSEGV, &action, &old_segv);
        sigaction(SIGBUS, &action, &old_bus);
        CUresult result = OK;
        if (sigsetjmp(fault_jump, 1)) {
            result = ILLEGAL_ADDRESS;
            in_fibers = 0;
        } else {
            in_kernel = 1;
            for (unsigned bz = 0; bz < grid.z; bz++)
            for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                dim3 b = { bx, by, bz };
                ntemu_block_index = b;
                if (!f->barrier) {  // no barrier: each thread runs to the end in turn, no fibers
                    for (unsigned t = 0; t < threads; t++) {
                        dim3 i = { t % block.x, (t / block.x) % block.y, t / (block.x * block.y) };
                        ntemu_thread_index = i;
                        f->entry(params);
                    }
                    continue;
                }
                in_fibers = 1;
                for (unsigned t = 0; t < threads; t++) {
                    fibers[t] = fiber_template;
                    fibers[t].uc_stack.ss_sp = stacks[t];
                    fibers[t].uc_stack.ss_size = STACK_BYTES;
                    fibers[t].uc_link = &scheduler;
                    makecontext(&fibers[t], fiber_main, 0);
                    finished[t] = 0;
                    started[t] = 0;
                }
                remaining = threads;
                while (remaining) {
                    for (unsigned t = 0; t < threads; t++) {
                        if (finished[t]) continue;
                        current = t;
                        dim3 i = { t % block.x, (t / block.x) % block.y, t / (block.x * block.y) };
                        ntemu_thread_index = i;
                        if (!_setjmp(scheduler_jump)) {
                            if (!started[t]) { started[t] = 1; swapcontext(&scheduler, &fibers[t]); }
                            else _longjmp(fiber_jump[t], 1);
                        }
                    }
                }
                in_fibers = 0;
            }
            in_kernel = 0;
        }
        sigaction(SIGSEGV, &old_segv, 0);
        sigaction(SIGBUS, &old_bus, 0);
        sigaltstack(&old_alt, 0);
        return result;
    }

    CUresult cuLaunchKernel(void* fp, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared, void* stream, void** params, void** extra) {
        if (!current_context) return INVALID_CONTEXT;
        function* f = (function*)fp;
        if (!f) return INVALID_HANDLE;
        if (!gx || !gy || !gz || !bx || !by || !bz) return INVALID_VALUE;
        if (bx > 1024 || by > 1024 || bz > 64 || (unsigned long long)bx * by * bz > MAX_THREADS) return INVALID_VALUE;
        if (gx > 2147483647u || gy > 65535 || gz > 65535 || shared > 48 * 1024 || stream || extra) return INVALID_VALUE;
        int arity = f->arity();
        if (arity > 0 && !params) return INVALID_VALUE;
        for (int i = 0; i < arity; i++) if (!params[i]) return INVALID_VALUE;
        launches++;
        if (pending) return OK;  // the context already faulted; the error is still to be reported
        dim3 grid = { gx, gy, gz }, block = { bx, by, bz };
        pending = run_grid(f, grid, block, params);
        return OK;
    }

    static const char* name_of(int code) {
        switch (code) {
        case OK: return "CUDA_SUCCESS";
        case INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
        case OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
        case NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
        case NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
        case INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
        case INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
        case INVALID_CONTEXT: return "CUDA_ERROR_INVALID_CONTEXT";
        case INVALID_HANDLE: return "CUDA_ERROR_INVALID_HANDLE";
        case NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
        case ILLEGAL_ADDRESS: return "CUDA_ERROR_ILLEGAL_ADDRESS";
        default: return 0;
        }
    }
    CUresult cuGetErrorName(int code, const char** s) { *s = name_of(code); return *s ? OK : INVALID_VALUE; }
    CUresult cuGetErrorString(int code, const char** s) { *s = name_of(code); return *s ? OK : INVALID_VALUE; }
    }
    """#
}
