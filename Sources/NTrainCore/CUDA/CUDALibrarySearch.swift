import Foundation

/// Where CUDA's run-time libraries (NVRTC, cuBLAS) may be: an environment variable naming a file or
/// directory, the toolkit's sonames and directory, and NVIDIA's pip wheels (`nvidia/<package>/lib/`)
/// in virtual environments and site-packages directories. The driver (libcuda.so.1) is not searched:
/// it comes with the NVIDIA driver and is always on the loader's path.
enum CUDALibrarySearch {
    /// Candidate paths or sonames for a library whose files start with `prefix` (e.g. `libnvrtc.so`),
    /// in the order to try them, without duplicates.
    static func candidates(
        prefix: String, variable: String, sonames: [String], pipPackage: String,
        environment: [String: String], workingDirectory: String
    ) -> [String] {
        var result: [String] = []
        if let explicit = environment[variable], !explicit.isEmpty {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: explicit, isDirectory: &isDirectory), isDirectory.boolValue {
                result += libraries(in: explicit, prefix: prefix)
            } else {
                result.append(explicit)
            }
        }
        result += sonames
        result += libraries(in: "/usr/local/cuda/lib64", prefix: prefix)
        for dir in sitePackages(environment: environment, workingDirectory: workingDirectory) {
            result += libraries(in: dir + "/nvidia/" + pipPackage + "/lib", prefix: prefix)
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }

    /// site-packages directories: virtual environments (`VIRTUAL_ENV`, `.venv*` and `venv` in the
    /// working directory), the user's, the system's, conda's and pyenv's.
    static func sitePackages(environment: [String: String], workingDirectory: String) -> [String] {
        let fm = FileManager.default
        var roots: [String] = []
        if let venv = environment["VIRTUAL_ENV"], !venv.isEmpty { roots.append(venv) }
        let entries = (try? fm.contentsOfDirectory(atPath: workingDirectory)) ?? []
        roots += entries.filter { $0.hasPrefix(".venv") || $0 == "venv" }.sorted().map { workingDirectory + "/" + $0 }
        var dirs: [String] = []
        for root in roots { dirs += pythonSitePackages(under: root + "/lib") }
        if let home = environment["HOME"] { dirs += pythonSitePackages(under: home + "/.local/lib") }
        for prefix in ["/usr/local/lib", "/usr/lib", "/opt/conda/lib"] { dirs += pythonSitePackages(under: prefix) }
        if let home = environment["HOME"] {
            let versions = home + "/.pyenv/versions"
            for v in ((try? fm.contentsOfDirectory(atPath: versions)) ?? []).sorted() {
                dirs += pythonSitePackages(under: versions + "/" + v + "/lib")
            }
        }
        return dirs
    }

    /// `<prefix>/python3.*/{site,dist}-packages` that exist.
    private static func pythonSitePackages(under prefix: String) -> [String] {
        let fm = FileManager.default
        let pythons = ((try? fm.contentsOfDirectory(atPath: prefix)) ?? []).filter { $0.hasPrefix("python3") }.sorted()
        var dirs: [String] = []
        for p in pythons {
            for leaf in ["site-packages", "dist-packages"] where fm.fileExists(atPath: "\(prefix)/\(p)/\(leaf)") {
                dirs.append("\(prefix)/\(p)/\(leaf)")
            }
        }
        return dirs
    }

    /// Files in `directory` named `prefix` or `prefix.<version>`, longest (most specific) name first.
    static func libraries(in directory: String, prefix: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0 == prefix || $0.hasPrefix(prefix + ".") }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
        return names.map { directory + "/" + $0 }
    }
}
