using GpuTransformer.Runtime;
using Xunit;

namespace GpuTransformer.Tests.Support;

/// <summary>
/// CI lists the backends it must have in GPUTRANSFORMER_REQUIRE_BACKENDS; each one listed must really be here, so
/// that a machine that lost PoCL or clang fails instead of quietly skipping the tests that need them.
/// </summary>
public sealed class RequiredBackendsTests
{
    private static readonly string[] Known = ["cpu", "emulator", "opencl", "cuda", "clang"];

    public static TheoryData<string> Backends() => new(Known);

    [Theory]
    [MemberData(nameof(Backends))]
    public void RequiredBackendIsPresent(string backend)
    {
        if (!RequiredBackends.IsRequired(backend))
        {
            return;
        }

        string? absent = backend switch
        {
            "clang" => Clang.AbsentBecause,
            "cpu" or "emulator" => Open(backend),
            _ => DeviceCatalog.Enumerate(out var problems).Any(d => d.Id.StartsWith(backend + ":", StringComparison.Ordinal))
                ? null
                : problems.FirstOrDefault(p => p.StartsWith(backend, StringComparison.Ordinal)) ?? "no device",
        };
        Assert.True(absent is null, $"{RequiredBackends.Variable} requires {backend}, which is absent: {absent}");
        Assert.Contains(backend is "clang" ? "cpu" : backend, TestDevices.Available.Select(d => d.Split(':')[0]).Append("cpu"));
    }

    [Fact]
    public void UnknownRequiredBackendIsAnError()
    {
        string listed = Environment.GetEnvironmentVariable(RequiredBackends.Variable) ?? "";
        var unknown = listed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(b => !Known.Contains(b, StringComparer.OrdinalIgnoreCase));
        Assert.Empty(unknown);
    }

    private static string? Open(string id)
    {
        try
        {
            using var accelerator = DeviceCatalog.Open(id);
            return null;
        }
        catch (Exception e) when (e is NotSupportedException or DeviceException)
        {
            return e.Message;
        }
    }
}
