namespace GpuTransformer.Model.Architectures;

/// <summary>
/// Marian's static position table: <c>angle(pos, j) = pos / 10000^(2j / d)</c>, sin in the first half of each row and
/// cos in the second (not interleaved), computed in double and rounded to float as HF does with numpy.
/// </summary>
internal static class SinusoidalPositions
{
    public static float[] Create(int positions, int dim)
    {
        var table = new float[positions * dim];
        int sinCols = (dim + 1) / 2;
        for (int pos = 0; pos < positions; pos++)
        {
            for (int c = 0; c < dim; c++)
            {
                // Column c of the first half is numpy column 2c (sin); of the second half numpy column 2(c - sinCols) + 1 (cos).
                int j = c < sinCols ? 2 * c : 2 * (c - sinCols) + 1;
                double angle = pos / Math.Pow(10000.0, 2 * (j / 2) / (double)dim);
                table[pos * dim + c] = (float)(c < sinCols ? Math.Sin(angle) : Math.Cos(angle));
            }
        }

        return table;
    }
}
