using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Model;
using Xunit;

namespace GpuTransformer.Tests.Support;

/// <summary>
/// The int8 tests on a processor without AVX2 and FMA: instead of passing silently, they check that int8 is refused
/// there with a <see cref="NotSupportedException"/>, which is this build's behaviour on such a CPU.
/// </summary>
public static class Int8Support
{
    /// <summary>True when this CPU runs int8; otherwise asserts that int8 is refused and returns false.</summary>
    /// <returns>Whether the caller should go on with its int8 checks.</returns>
    public static bool PresentOrRefused()
    {
        if (CpuInt8Weight.IsSupported)
        {
            return true;
        }

        Assert.Throws<NotSupportedException>(() =>
        {
            using var translator = Translator.Create(TestData.Model("tiny-marian-en-de"), new TranslatorOptions { Device = "cpu", ComputeType = ComputeType.Int8 });
        });
        return false;
    }
}
