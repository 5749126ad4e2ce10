using GpuTransformer.Runtime;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.OpenCL;

/// <summary>
/// A fact that needs an OpenCL device: skipped with the reason when this machine has none, unless
/// <see cref="RequiredBackends"/> demands <c>opencl</c>, in which case it runs and fails.
/// </summary>
public sealed class OpenCLFactAttribute : FactAttribute
{
    /// <summary>Marks the test, skipping it when OpenCL is absent and not required.</summary>
    public OpenCLFactAttribute()
    {
        Skip = RequiredBackends.SkipReason("opencl", AbsentBecause);
    }

    /// <summary>Why there is no OpenCL device here, or null when there is one.</summary>
    public static string? AbsentBecause { get; } = Find();

    private static string? Find()
    {
        var devices = DeviceCatalog.Enumerate(out var problems);
        return devices.Any(d => d.Kind == AcceleratorKind.OpenCL)
            ? null
            : problems.FirstOrDefault(p => p.StartsWith("opencl:", StringComparison.Ordinal)) ?? "no OpenCL device";
    }
}
