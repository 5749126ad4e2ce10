using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>T5's RMSNorm: <c>y = gamma * (x * rsqrt(mean(x²) + eps))</c>, no mean subtraction and no bias.</summary>
public static unsafe class CpuRmsNorm
{
    /// <summary>Normalizes each row of <paramref name="x"/> into <paramref name="y"/> (which may alias it).</summary>
    /// <param name="x">Input rows.</param>
    /// <param name="gamma">Scale, one per column.</param>
    /// <param name="y">Output rows.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="cols">Row length.</param>
    /// <param name="epsilon">Added to the mean square.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void Normalize(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, Span<float> y, int rows, int cols, float epsilon)
    {
        long size = (long)rows * cols;
        if (x.Length < size || y.Length < size || gamma.Length < cols)
        {
            throw new ArgumentException($"RmsNorm: spans too short for {rows}x{cols}.");
        }

        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var yr = y.Slice(r * cols, cols);
            double sq = CpuRowReductions.SumOfSquares(xr, 0);
            float rs = (float)(1.0 / Math.Sqrt((float)(sq / cols) + epsilon));
            int c = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                // The same two products per element as the scalar tail, so the result is bit-identical.
                var vrs = Vector256.Create(rs);
                for (; c + 8 <= cols; c += 8)
                {
                    (Vector256.Create(gamma.Slice(c, 8)) * (Vector256.Create(xr.Slice(c, 8)) * vrs)).CopyTo(yr.Slice(c, 8));
                }
            }

            for (; c < cols; c++)
            {
                yr[c] = gamma[c] * (xr[c] * rs);
            }
        }
    }
}
