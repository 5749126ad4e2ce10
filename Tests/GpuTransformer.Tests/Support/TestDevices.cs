using GpuTransformer.Runtime;

namespace GpuTransformer.Tests.Support;

/// <summary>
/// The devices whole-model tests run on: cpu and the emulator always, plus the first OpenCL and CUDA device when this
/// machine has them. <see cref="RequiredBackends"/> decides whether a missing one is a failure (CI) or a skip.
/// </summary>
public static class TestDevices
{
    /// <summary>Ids of the devices present, cpu first.</summary>
    public static IReadOnlyList<string> Available { get; } = Find();

    /// <summary>Every (fixture, device) pair over <paramref name="fixtures"/> and <see cref="Available"/>.</summary>
    /// <param name="fixtures">Fixture names.</param>
    /// <returns>The theory rows.</returns>
    public static Xunit.TheoryData<string, string> Pairs(IEnumerable<string> fixtures)
    {
        var data = new Xunit.TheoryData<string, string>();
        foreach (string fixture in fixtures)
        {
            foreach (string device in Available)
            {
                // The bundled model is 30× the tiny fixtures; on the emulator (C# kernels interpreted per work-item on
                // the CPU) its goldens alone would take minutes of CI. The tiny Marian fixtures cover the emulator.
                if (device == "emulator" && fixture == "multi30k-en-de-small")
                {
                    continue;
                }

                data.Add(fixture, device);
            }
        }

        return data;
    }

    private static string[] Find()
    {
        var devices = DeviceCatalog.Enumerate();
        var found = new List<string> { "cpu", "emulator" };
        foreach (var kind in new[] { AcceleratorKind.OpenCL, AcceleratorKind.Cuda })
        {
            if (devices.FirstOrDefault(d => d.Kind == kind) is { } first)
            {
                found.Add(first.Id);
            }
        }

        return [.. found];
    }
}
