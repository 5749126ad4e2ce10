using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>LayerNorm with an optional fused residual add, as <c>nn.LayerNorm(x + residual)</c> computes it.</summary>
public static unsafe class CpuLayerNorm
{
    /// <summary>
    /// For each of <paramref name="rows"/> rows: <c>h = x + residual</c> (when given), then
    /// <c>y = (h - mean) / sqrt(var + eps) * gamma + beta</c> with the biased variance.
    /// <paramref name="y"/> may alias <paramref name="x"/> or <paramref name="residual"/>.
    /// </summary>
    /// <param name="x">Input rows.</param>
    /// <param name="residual">Rows added to <paramref name="x"/> first, or empty.</param>
    /// <param name="gamma">Scale, one per column.</param>
    /// <param name="beta">Shift, one per column.</param>
    /// <param name="y">Output rows.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="cols">Row length.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void AddAndNormalize(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int rows, int cols, float epsilon)
    {
        long size = (long)rows * cols;
        if (x.Length < size || y.Length < size || gamma.Length < cols || beta.Length < cols || (!residual.IsEmpty && residual.Length < size))
        {
            throw new ArgumentException($"LayerNorm: spans too short for {rows}x{cols}.");
        }

        fixed (float* px = x, pr = residual, pg = gamma, pb = beta, py = y)
        {
            for (int r = 0; r < rows; r++)
            {
                long o = (long)r * cols;
                NormalizeRow(px + o, residual.IsEmpty ? null : pr + o, pg, pb, py + o, cols, epsilon);
            }
        }
    }

    private static void NormalizeRow(float* x, float* residual, float* gamma, float* beta, float* y, int cols, float epsilon)
    {
        // Sums in double: the mean/variance of 512-2048 floats then matches PyTorch to the last float bit in practice.
        // The floats are widened to double lanes, so the order of the additions differs from a scalar loop only in
        // double-precision rounding, far below what reaches the float result.
        double sum = 0;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<double> s0 = default, s1 = default;
            for (; i + 16 <= cols; i += 16)
            {
                var h = residual == null ? Vector512.Load(x + i) : Vector512.Load(x + i) + Vector512.Load(residual + i);
                h.Store(y + i);
                var (lo, hi) = Vector512.Widen(h);
                s0 += lo;
                s1 += hi;
            }

            sum = Vector512.Sum(s0 + s1);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> s0 = default, s1 = default;
            for (; i + 8 <= cols; i += 8)
            {
                var h = residual == null ? Vector256.Load(x + i) : Vector256.Load(x + i) + Vector256.Load(residual + i);
                h.Store(y + i);
                var (lo, hi) = Vector256.Widen(h);
                s0 += lo;
                s1 += hi;
            }

            sum = Vector256.Sum(s0 + s1);
        }

        for (; i < cols; i++)
        {
            float h = residual == null ? x[i] : x[i] + residual[i];
            y[i] = h;
            sum += h;
        }

        double mean = sum / cols;
        double sq = CpuRowReductions.SumOfSquares(new ReadOnlySpan<float>(y, cols), mean);
        float rstd = (float)(1.0 / Math.Sqrt(sq / cols + epsilon));
        float fmean = (float)mean;
        int c = 0;
        var vm = Vector256.Create(fmean);
        var vr = Vector256.Create(rstd);
        for (; c + 8 <= cols; c += 8)
        {
            var v = (Vector256.Load(y + c) - vm) * vr;
            Vector256.Store(Vector256.FusedMultiplyAdd(v, Vector256.Load(gamma + c), Vector256.Load(beta + c)), y + c);
        }

        for (; c < cols; c++)
        {
            y[c] = MathF.FusedMultiplyAdd((y[c] - fmean) * rstd, gamma[c], beta[c]);
        }
    }
}
