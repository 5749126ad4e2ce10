using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Model.Architectures;

/// <summary>One <c>nn.LayerNorm</c>: gamma, beta and epsilon.</summary>
internal sealed class LayerNormWeights(float[] gamma, float[] beta, float epsilon)
{
    public float[] Gamma { get; } = gamma;

    public float[] Beta { get; } = beta;

    public float Epsilon { get; } = epsilon;

    /// <summary><c>y = LayerNorm(x + residual)</c>; y may alias x.</summary>
    public void AddAndNormalize(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> y, int rows) =>
        CpuLayerNorm.AddAndNormalize(x, residual, Gamma, Beta, y, rows, Gamma.Length, Epsilon);
}
