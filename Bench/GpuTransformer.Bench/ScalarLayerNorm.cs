using System.Runtime.Intrinsics;

namespace GpuTransformer.Bench;

/// <summary>
/// The in-run baseline of <c>CpuLayerNorm</c>: its implementation of commit b4623f7 (the two double-precision sums
/// scalar, the normalisation in Vector256), unchanged apart from the class name.
/// </summary>
public static unsafe class ScalarLayerNorm
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
        // Sum in double: the mean/variance of 512-2048 floats then matches PyTorch to the last float bit in practice.
        double sum = 0;
        for (int i = 0; i < cols; i++)
        {
            float h = residual == null ? x[i] : x[i] + residual[i];
            y[i] = h;
            sum += h;
        }

        double mean = sum / cols;
        double sq = 0;
        for (int i = 0; i < cols; i++)
        {
            double d = y[i] - mean;
            sq += d * d;
        }

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
