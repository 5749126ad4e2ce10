using Xunit;

namespace GpuTransformer.Tests.Support;

/// <summary>Float comparisons against HF goldens.</summary>
public static class Numerics
{
    /// <summary>The stated tolerance: 1e-4 absolute (fp32).</summary>
    public const double Absolute = 1e-4;

    /// <summary>Goldens store 6 significant digits, so each value carries up to half a unit of its 6th digit of rounding.</summary>
    public const double GoldenRounding = 5e-6;

    /// <summary>Asserts every element is within 1e-4 (plus the golden's own rounding) of the golden.</summary>
    public static void AssertClose(IReadOnlyList<double> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Count == actual.Length, $"{what}: {actual.Length} values, golden has {expected.Count}");
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.False(float.IsNaN(actual[i]) || float.IsInfinity(actual[i]), $"{what}[{i}] is {actual[i]}");
            double excess = Math.Abs(actual[i] - expected[i]) - (Absolute + GoldenRounding * Math.Abs(expected[i]));
            if (excess > worst)
            {
                worst = excess;
                worstAt = i;
            }
        }

        Assert.True(worstAt < 0, worstAt < 0 ? "" : $"{what}[{worstAt}]: got {actual[worstAt]}, golden {expected[worstAt]} (|diff| {Math.Abs(actual[worstAt] - expected[worstAt]):g3})");
    }
}
