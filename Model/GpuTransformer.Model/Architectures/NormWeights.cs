using GpuTransformer.Kernels;
using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Architectures;

/// <summary>One normalisation layer on the model's accelerator: LayerNorm (gamma, beta) or RMSNorm (gamma only).</summary>
internal sealed class NormWeights(MemoryBuffer<float> gamma, MemoryBuffer<float>? beta, float epsilon)
{
    public int Dim => gamma.Length;

    /// <summary><c>y = Norm(x)</c>; y may alias x.</summary>
    public void Normalize(Accelerator accelerator, ArrayView<float> x, ArrayView<float> y, int rows)
    {
        if (beta is null)
        {
            Normalization.RmsNorm(accelerator, x, gamma.View, y, rows, Dim, epsilon);
        }
        else
        {
            Normalization.LayerNorm(accelerator, x, default, gamma.View, beta.View, y, rows, Dim, epsilon);
        }
    }

    /// <summary><c>y = LayerNorm(x + residual)</c>; y may alias x.</summary>
    public void AddAndNormalize(Accelerator accelerator, ArrayView<float> x, ArrayView<float> residual, ArrayView<float> y, int rows) =>
        Normalization.LayerNorm(accelerator, x, residual, gamma.View, (beta ?? throw new InvalidOperationException("post-norm with RMSNorm")).View, y, rows, Dim, epsilon);
}
