using GpuTransformer.Cli;
using GpuTransformer.Kernels.Cpu;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>The <c>devices</c> command's cpu line.</summary>
public sealed class DevicesCommandTests
{
    /// <summary>The cpu line names the int8 kernel this processor would run, or says it has none.</summary>
    [Fact]
    public void CpuLineNamesTheInt8Kernel()
    {
        var output = new StringWriter();
        Assert.Equal(0, DevicesCommand.Run(new CommandArguments([]), output));
        string cpu = output.ToString().Split('\n').Single(line => line.StartsWith("cpu", StringComparison.Ordinal));
        string expected = !CpuInt8Weight.IsSupported ? "no int8"
            : System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? "int8 on AVX-VNNI" : "int8 on AVX2";
        Assert.Contains(expected, cpu, StringComparison.Ordinal);
    }
}
