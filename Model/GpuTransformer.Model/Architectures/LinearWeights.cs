using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Model.Architectures;

/// <summary>One <c>nn.Linear</c>: weight [Out, In] as PyTorch stores it, and an optional bias.</summary>
internal sealed class LinearWeights(float[] weight, float[]? bias, int outFeatures, int inFeatures)
{
    public float[] Weight { get; } = weight;

    public float[]? Bias { get; } = bias;

    public int Out { get; } = outFeatures;

    public int In { get; } = inFeatures;

    public void Apply(ReadOnlySpan<float> x, Span<float> y, int rows, Activation activation = Activation.None) =>
        CpuGemm.Linear(x[..(rows * In)], Weight, Bias, y[..(rows * Out)], rows, Out, In, activation);
}
