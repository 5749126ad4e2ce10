namespace GpuTransformer.Kernels.Cpu;

/// <summary>Numerically stable softmax and log-softmax over one row.</summary>
public static class CpuSoftmax
{
    /// <summary>Writes <c>log_softmax(x)</c> to <paramref name="y"/> (which may alias <paramref name="x"/>).</summary>
    /// <param name="x">Input logits.</param>
    /// <param name="y">Output log-probabilities, same length.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void LogSoftmax(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("LogSoftmax: input and output lengths differ.", nameof(y));
        }

        if (x.IsEmpty)
        {
            return;
        }

        float max = float.NegativeInfinity;
        foreach (float v in x)
        {
            max = MathF.Max(max, v);
        }

        double sum = 0;
        foreach (float v in x)
        {
            sum += MathF.Exp(v - max);
        }

        // PyTorch's order: (x - max) - log(sum), which rounds differently from x - (max + log(sum)).
        float logSum = (float)Math.Log(sum);
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = (x[i] - max) - logSum;
        }
    }

    /// <summary>Writes <c>softmax(x)</c> to <paramref name="y"/> (which may alias <paramref name="x"/>).</summary>
    /// <param name="x">Input scores.</param>
    /// <param name="y">Output probabilities, same length.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("Softmax: input and output lengths differ.", nameof(y));
        }

        if (x.IsEmpty)
        {
            return;
        }

        float max = float.NegativeInfinity;
        foreach (float v in x)
        {
            max = MathF.Max(max, v);
        }

        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            y[i] = e;
            sum += e;
        }

        float inv = 1f / sum;
        for (int i = 0; i < y.Length; i++)
        {
            y[i] *= inv;
        }
    }
}
