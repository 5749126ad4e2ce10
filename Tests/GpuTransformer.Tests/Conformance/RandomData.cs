namespace GpuTransformer.Tests.Conformance;

/// <summary>Seeded inputs, so that a failure reproduces; never zeros, which hide unwritten outputs and wrong indexing.</summary>
public static class RandomData
{
    /// <summary><paramref name="count"/> values uniform in [-<paramref name="scale"/>, <paramref name="scale"/>).</summary>
    public static float[] Uniform(int seed, int count, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (random.NextSingle() * 2f - 1f) * scale;
        }

        return values;
    }

    /// <summary>A seed derived from a case name, stable across runs.</summary>
    public static int Seed(string name)
    {
        int hash = 17;
        foreach (char c in name)
        {
            hash = unchecked(hash * 31 + c);
        }

        return hash;
    }
}
