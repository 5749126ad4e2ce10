using System.Globalization;

namespace GpuTransformer.Bench;

/// <summary>The GEMM suites' <c>Shape</c> parameter, "KxN" (e.g. "512x58101"), read back as K and N.</summary>
public static class GemmShape
{
    /// <summary>K, the inner dimension: the number before the 'x'.</summary>
    /// <param name="shape">"KxN".</param>
    /// <returns>K.</returns>
    public static int K(string shape) => int.Parse(shape.AsSpan(0, shape.IndexOf('x', StringComparison.Ordinal)), provider: CultureInfo.InvariantCulture);

    /// <summary>N, the output features: the number after the 'x'.</summary>
    /// <param name="shape">"KxN".</param>
    /// <returns>N.</returns>
    public static int N(string shape) => int.Parse(shape.AsSpan(shape.IndexOf('x', StringComparison.Ordinal) + 1), provider: CultureInfo.InvariantCulture);
}
