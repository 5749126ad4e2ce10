using GpuTransformer.Runtime;
using GpuTransformer.Tests.Support;

namespace GpuTransformer.Tests.Conformance;

/// <summary>
/// The backends the conformance matrix compares with the scalar reference: cpu (SIMD), the emulator in both modes
/// (work-item loops; a thread per work-item only for small cases, since each of its barriers costs a context switch
/// per work-item), and the first OpenCL and CUDA devices when present.
/// </summary>
public static class ConformanceBackends
{
    /// <summary>Device ids for every case.</summary>
    public static IReadOnlyList<string> All { get; } = [.. TestDevices.Available];

    /// <summary>Device ids for small cases: <see cref="All"/> plus the thread-per-work-item emulator.</summary>
    public static IReadOnlyList<string> ForSmallCases { get; } = [.. All, "emulator:threads"];

    /// <summary>Theory rows (case, device) for <paramref name="cases"/>; cases whose name starts with "small" also run on emulator:threads.</summary>
    /// <param name="cases">Case names.</param>
    /// <returns>The rows.</returns>
    public static Xunit.TheoryData<string, string> Rows(IEnumerable<string> cases)
    {
        var data = new Xunit.TheoryData<string, string>();
        foreach (string name in cases)
        {
            foreach (string device in name.StartsWith("small", StringComparison.Ordinal) ? ForSmallCases : All)
            {
                data.Add(name, device);
            }
        }

        return data;
    }

    /// <summary>Opens a device of the matrix.</summary>
    /// <param name="id">Its id.</param>
    /// <returns>The accelerator.</returns>
    public static Accelerator Open(string id) => DeviceCatalog.Open(id);
}
