using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// NVRTC, the CUDA toolkit's run-time compiler from CUDA C to PTX, bound like <see cref="CudaDriver"/>: loaded on the
/// first compile, each field named after its export and typed as nvrtc.h declares it (<c>nvrtcResult</c> is an
/// <see langword="int"/> enum, <c>nvrtcProgram</c> a handle, <c>size_t</c> <see langword="nuint"/>). The toolkit
/// installs only versioned names (<c>libnvrtc.so.12</c>) outside its development package, so they are probed.
/// </summary>
internal sealed unsafe class Nvrtc
{
    /// <summary>NVRTC_SUCCESS.</summary>
    public const int Success = 0;

    /// <summary>Environment variable naming the NVRTC library file to use before probing.</summary>
    public const string LibraryVariable = "GPUTRANSFORMER_NVRTC";

    private static readonly Lock LoadGate = new();
    private static bool loadAttempted;
    private static Nvrtc? loaded;
    private static string? loadProblem;

    public readonly delegate* unmanaged<int, byte*> nvrtcGetErrorString;
    public readonly delegate* unmanaged<int*, int*, int> nvrtcVersion;
    public readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> nvrtcCreateProgram;
    public readonly delegate* unmanaged<nint, int, byte**, int> nvrtcCompileProgram;
    public readonly delegate* unmanaged<nint, nuint*, int> nvrtcGetPTXSize;
    public readonly delegate* unmanaged<nint, byte*, int> nvrtcGetPTX;
    public readonly delegate* unmanaged<nint, nuint*, int> nvrtcGetProgramLogSize;
    public readonly delegate* unmanaged<nint, byte*, int> nvrtcGetProgramLog;
    public readonly delegate* unmanaged<nint*, int> nvrtcDestroyProgram;

    /// <summary>Optional (NVRTC 11.2+): how many architectures this NVRTC can target; null when absent.</summary>
    public readonly delegate* unmanaged<int*, int> nvrtcGetNumSupportedArchs;

    /// <summary>Optional (NVRTC 11.2+): the architectures, as 52, 75, 90, ...; null when absent.</summary>
    public readonly delegate* unmanaged<int*, int> nvrtcGetSupportedArchs;

    private readonly List<string> missing = [];

    private Nvrtc(nint library, string path)
    {
        Path = path;
        nvrtcGetErrorString = (delegate* unmanaged<int, byte*>)Export(library, "nvrtcGetErrorString");
        nvrtcVersion = (delegate* unmanaged<int*, int*, int>)Export(library, "nvrtcVersion");
        nvrtcCreateProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)Export(library, "nvrtcCreateProgram");
        nvrtcCompileProgram = (delegate* unmanaged<nint, int, byte**, int>)Export(library, "nvrtcCompileProgram");
        nvrtcGetPTXSize = (delegate* unmanaged<nint, nuint*, int>)Export(library, "nvrtcGetPTXSize");
        nvrtcGetPTX = (delegate* unmanaged<nint, byte*, int>)Export(library, "nvrtcGetPTX");
        nvrtcGetProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)Export(library, "nvrtcGetProgramLogSize");
        nvrtcGetProgramLog = (delegate* unmanaged<nint, byte*, int>)Export(library, "nvrtcGetProgramLog");
        nvrtcDestroyProgram = (delegate* unmanaged<nint*, int>)Export(library, "nvrtcDestroyProgram");
        nvrtcGetNumSupportedArchs = NativeLibrary.TryGetExport(library, "nvrtcGetNumSupportedArchs", out nint count) ? (delegate* unmanaged<int*, int>)count : null;
        nvrtcGetSupportedArchs = NativeLibrary.TryGetExport(library, "nvrtcGetSupportedArchs", out nint archs) ? (delegate* unmanaged<int*, int>)archs : null;
    }

    /// <summary>The library file or name that was loaded.</summary>
    public string Path { get; }

    /// <summary>The version, e.g. <c>12.4</c>.</summary>
    public string Version { get; private set; } = "";

    /// <summary>Loads NVRTC once per process; never throws.</summary>
    /// <param name="problem">Why there is none (with the names tried), or null.</param>
    /// <returns>NVRTC, or null.</returns>
    public static Nvrtc? TryLoad(out string? problem)
    {
        lock (LoadGate)
        {
            if (!loadAttempted)
            {
                loadAttempted = true;
                loaded = Load(out loadProblem);
            }

            problem = loadProblem;
            return loaded;
        }
    }

    /// <summary>
    /// The names and paths tried, in order: <see cref="LibraryVariable"/>, then each name through the loader's search
    /// path, then in the toolkit's library directories (<c>CUDA_PATH</c>, <c>CUDA_HOME</c>, <c>/usr/local/cuda*</c>).
    /// </summary>
    /// <returns>The candidates.</returns>
    public static IReadOnlyList<string> Candidates()
    {
        var names = OperatingSystem.IsWindows()
            ? new[] { "nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll", "nvrtc64_111_0.dll", "nvrtc64_110_0.dll" }
            : ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0", "libnvrtc.so.10.2"];
        var result = new List<string>();
        if (Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } explicitPath)
        {
            result.Add(explicitPath);
        }

        result.AddRange(names);
        foreach (string directory in ToolkitDirectories())
        {
            result.AddRange(names.Select(n => System.IO.Path.Combine(directory, n)));
        }

        return result;
    }

    /// <summary>The message of <paramref name="code"/>: nvrtcGetErrorString gives the enum's name.</summary>
    /// <param name="code">An <c>nvrtcResult</c>.</param>
    /// <returns>E.g. <c>NVRTC_ERROR_COMPILATION</c>.</returns>
    public string ErrorName(int code)
    {
        byte* text = nvrtcGetErrorString(code);
        return text == null ? $"nvrtcResult {code}" : Marshal.PtrToStringUTF8((nint)text) ?? $"nvrtcResult {code}";
    }

    /// <summary>The architectures this NVRTC can target (52, 75, 90, ...), or empty when it cannot say.</summary>
    /// <returns>The list, ascending.</returns>
    public int[] SupportedArchitectures()
    {
        if (nvrtcGetNumSupportedArchs == null || nvrtcGetSupportedArchs == null)
        {
            return [];
        }

        int count;
        if (nvrtcGetNumSupportedArchs(&count) != Success || count <= 0)
        {
            return [];
        }

        var archs = new int[count];
        fixed (int* p = archs)
        {
            if (nvrtcGetSupportedArchs(p) != Success)
            {
                return [];
            }
        }

        Array.Sort(archs);
        return archs;
    }

    private static IEnumerable<string> ToolkitDirectories()
    {
        foreach (string variable in new[] { "CUDA_PATH", "CUDA_HOME", "CUDA_ROOT" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } root)
            {
                yield return System.IO.Path.Combine(root, OperatingSystem.IsWindows() ? "bin" : "lib64");
                yield return System.IO.Path.Combine(root, "lib");
            }
        }

        if (OperatingSystem.IsWindows())
        {
            yield break;
        }

        yield return "/usr/local/cuda/lib64";
        yield return "/usr/local/cuda/targets/x86_64-linux/lib";
        string[] versioned;
        try
        {
            // Newest first: /usr/local/cuda-12.4 before /usr/local/cuda-11.8 (ordinal order is good enough for the
            // same number of digits, which is what NVIDIA ships).
            versioned = Directory.Exists("/usr/local") ? Directory.GetDirectories("/usr/local", "cuda-*") : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            versioned = [];
        }

        Array.Sort(versioned, StringComparer.Ordinal);
        Array.Reverse(versioned);
        foreach (string directory in versioned)
        {
            yield return System.IO.Path.Combine(directory, "lib64");
        }
    }

    private static Nvrtc? Load(out string? problem)
    {
        var candidates = Candidates();
        string? incomplete = null;
        foreach (string candidate in candidates)
        {
            bool isPath = candidate.Contains('/', StringComparison.Ordinal) || candidate.Contains('\\', StringComparison.Ordinal);
            if (isPath && !File.Exists(candidate))
            {
                continue;
            }

            if (!NativeLibrary.TryLoad(candidate, typeof(Nvrtc).Assembly, null, out nint library))
            {
                continue;
            }

            var nvrtc = new Nvrtc(library, candidate);
            if (nvrtc.missing.Count > 0)
            {
                // Something else answering to the name (a stub, a damaged install): try the next candidate.
                incomplete ??= $"{candidate} lacks {string.Join(", ", nvrtc.missing)}";
                continue;
            }

            int major, minor;
            nvrtc.Version = nvrtc.nvrtcVersion(&major, &minor) == Success ? $"{major}.{minor}" : "unknown";
            problem = null;
            return nvrtc;
        }

        if (incomplete is not null)
        {
            problem = incomplete;
            return null;
        }

        problem = $"NVRTC not found (tried {string.Join(", ", candidates.Where(c => !c.Contains('/', StringComparison.Ordinal)))} and the CUDA toolkit directories; install the CUDA toolkit's NVRTC or set {LibraryVariable})";
        return null;
    }

    private nint Export(nint library, string name)
    {
        if (NativeLibrary.TryGetExport(library, name, out nint address))
        {
            return address;
        }

        missing.Add(name);
        return 0;
    }
}
