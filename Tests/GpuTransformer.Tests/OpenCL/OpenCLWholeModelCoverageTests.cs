using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.OpenCL;

/// <summary>
/// The whole-model tests (goldens, greedy ids against cpu, transfers per step) take their devices from
/// <see cref="TestDevices"/>. This test is where a machine without OpenCL sees, as a skip with the reason, that those
/// tests did not run on OpenCL; with OpenCL present it holds them to include it.
/// </summary>
public sealed class OpenCLWholeModelCoverageTests
{
    [OpenCLFact]
    public void WholeModelTestsRunOnTheFirstOpenCLDevice() =>
        Assert.Contains(TestDevices.Available, d => d.StartsWith("opencl:", StringComparison.Ordinal));
}
