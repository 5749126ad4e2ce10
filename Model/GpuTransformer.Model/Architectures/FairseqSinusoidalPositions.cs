namespace GpuTransformer.Model.Architectures;

/// <summary>
/// M2M100's position table, <c>M2M100SinusoidalPositionalEmbedding.get_embedding</c>: with h = d/2,
/// <c>freq(i) = exp(i * -(ln 10000 / (h - 1)))</c>, row p = [sin(p freq(0..h-1)), cos(p freq(0..h-1))], a zero column
/// appended when d is odd, and the row <c>padding_idx</c> zeroed. Unlike Marian's table (numpy, float64) HF computes
/// this one in float32 tensors, so every step is rounded to float as torch rounds it.
/// </summary>
internal static class FairseqSinusoidalPositions
{
    public static float[] Create(int rows, int dim, int paddingIndex)
    {
        int half = dim / 2;
        var table = new float[rows * dim];
        var frequencies = new float[half];
        // torch multiplies the float32 arange by the Python float scalar in float32.
        float step = (float)(-Math.Log(10000.0) / (half - 1));
        for (int i = 0; i < half; i++)
        {
            frequencies[i] = TorchExp((float)i * step);
        }

        for (int pos = 0; pos < rows; pos++)
        {
            if (pos == paddingIndex)
            {
                continue;
            }

            var row = table.AsSpan(pos * dim, dim);
            for (int i = 0; i < half; i++)
            {
                // torch's float sin/cos (SLEEF u10) are within one ulp of these; that stays at 6e-8.
                float angle = (float)pos * frequencies[i];
                row[i] = (float)Math.Sin(angle);
                row[half + i] = (float)Math.Cos(angle);
            }
        }

        return table;
    }

    /// <summary>
    /// exp as torch's vectorized CPU kernels compute it in float32 (SLEEF <c>expf_u10</c> with FMA, as on AVX2 and
    /// AVX-512), which is not always the correctly rounded value. The difference matters here: an angle is position ×
    /// frequency, so one ulp of a frequency becomes up to 6e-5 in a position row at position 1000. Valid for the
    /// arguments the table uses (−ln 10000 ≤ d ≤ 0).
    /// </summary>
    internal static float TorchExp(float d)
    {
        float q = MathF.Round(d * 1.442695040888963407359924681001892137426645954152985934135449406931f, MidpointRounding.ToEven);
        float s = MathF.FusedMultiplyAdd(q, -0.693145751953125f, d);
        s = MathF.FusedMultiplyAdd(q, -1.428606765330187045e-06f, s);
        float u = 0.000198527617612853646278381f;
        u = MathF.FusedMultiplyAdd(u, s, 0.00139304355252534151077271f);
        u = MathF.FusedMultiplyAdd(u, s, 0.00833336077630519866943359f);
        u = MathF.FusedMultiplyAdd(u, s, 0.0416664853692054748535156f);
        u = MathF.FusedMultiplyAdd(u, s, 0.166666671633720397949219f);
        u = MathF.FusedMultiplyAdd(u, s, 0.5f);
        u = 1f + MathF.FusedMultiplyAdd(s * s, u, s);
        return MathF.ScaleB(u, (int)q);
    }
}
