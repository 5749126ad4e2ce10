namespace GpuTransformer.Model.Architectures;

/// <summary>
/// M2M100's position table, <c>M2M100SinusoidalPositionalEmbedding.get_embedding</c>: with h = d/2,
/// <c>freq(i) = exp(i * -(ln 10000 / (h - 1)))</c>, row p = [sin(p freq(0..h-1)), cos(p freq(0..h-1))], a zero column
/// appended when d is odd, and the row <c>padding_idx</c> zeroed. Unlike Marian's table (numpy, float64) HF computes
/// this one in float32 tensors, so the frequencies and angles are rounded to float as torch rounds them.
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
            frequencies[i] = (float)Math.Exp((float)i * step);
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
                float angle = (float)pos * frequencies[i];
                row[i] = (float)Math.Sin(angle);
                row[half + i] = (float)Math.Cos(angle);
            }
        }

        return table;
    }
}
