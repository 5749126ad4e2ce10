using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Model.Architectures;

/// <summary>One normalisation layer: LayerNorm (gamma, beta) or RMSNorm (gamma only).</summary>
internal sealed class NormWeights(float[] gamma, float[]? beta, float epsilon)
{
    public float[] Gamma { get; } = gamma;

    /// <summary>Null for RMSNorm.</summary>
    public float[]? Beta { get; } = beta;

    public float Epsilon { get; } = epsilon;

    /// <summary><c>y = Norm(x)</c>; y may alias x.</summary>
    public void Normalize(ReadOnlySpan<float> x, Span<float> y, int rows)
    {
        if (Beta is null)
        {
            CpuRmsNorm.Normalize(x, Gamma, y, rows, Gamma.Length, Epsilon);
        }
        else
        {
            CpuLayerNorm.AddAndNormalize(x, default, Gamma, Beta, y, rows, Gamma.Length, Epsilon);
        }
    }

    /// <summary><c>y = LayerNorm(x + residual)</c>; y may alias x.</summary>
    public void AddAndNormalize(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> y, int rows) =>
        CpuLayerNorm.AddAndNormalize(x, residual, Gamma, Beta ?? throw new InvalidOperationException("post-norm with RMSNorm"), y, rows, Gamma.Length, Epsilon);
}
