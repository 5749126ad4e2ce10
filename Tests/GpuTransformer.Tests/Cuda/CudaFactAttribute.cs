using GpuTransformer.Runtime;
using GpuTransformer.Runtime.Cuda;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.Cuda;

/// <summary>
/// A test that needs a CUDA device and NVRTC: skipped with the reason when they are absent, unless
/// <see cref="RequiredBackends"/> lists <c>cuda</c>, which makes it run (and fail) so that a GPU machine cannot pass
/// by skipping.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CudaFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> from what this machine has.</summary>
    public CudaFactAttribute()
    {
        Skip = RequiredBackends.SkipReason("cuda", AbsentBecause);
    }

    /// <summary>Why CUDA kernels cannot run here, or null when they can.</summary>
    public static string? AbsentBecause { get; } = Find();

    private static string? Find()
    {
        var devices = DeviceCatalog.Enumerate(out var problems);
        if (!devices.Any(d => d.Kind == AcceleratorKind.Cuda))
        {
            return problems.FirstOrDefault(p => p.StartsWith("cuda:", StringComparison.Ordinal)) ?? "no CUDA device";
        }

        return Nvrtc.TryLoad(out string? problem) is null ? problem : null;
    }
}
