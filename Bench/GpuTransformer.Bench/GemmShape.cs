using System.Globalization;

namespace GpuTransformer.Bench;

/// <summary>The GEMM suites' <c>Shape</c> parameter, "KxN" (e.g. "512x58101"), read back as K and N, and the work of one call.</summary>
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

    /// <summary>The suites' row counts: the comma-separated list in GPUTRANSFORMER_BENCH_M if it is set (e.g. "1024"), else <paramref name="defaults"/>.</summary>
    /// <param name="defaults">The suite's own row counts.</param>
    /// <returns>The values of M.</returns>
    public static IEnumerable<int> RowCounts(params int[] defaults) =>
        Environment.GetEnvironmentVariable("GPUTRANSFORMER_BENCH_M") is { Length: > 0 } list
            ? list.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))
            : defaults;

    /// <summary>Floating-point operations of one <c>Y[M,N] = X[M,K] · W[N,K]ᵀ</c>.</summary>
    /// <param name="m">Rows of X.</param>
    /// <param name="shape">"KxN".</param>
    /// <returns>2·M·K·N.</returns>
    public static double Flops(int m, string shape) => 2.0 * m * K(shape) * N(shape);

    /// <summary>Bytes one call must move at least: X and W read, Y written once (what bounds the decoding shapes, M ≤ 4).</summary>
    /// <param name="m">Rows of X.</param>
    /// <param name="shape">"KxN".</param>
    /// <returns>4·(M·K + N·K + M·N).</returns>
    public static double Bytes(int m, string shape)
    {
        double k = K(shape), n = N(shape);
        return 4.0 * ((m * k) + (n * k) + (m * n));
    }
}
