using GpuTransformer.Kernels;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// The position-wise feed-forward block: <c>Down(act(Up x))</c>, or gated (T5 v1.1) <c>Down(act(Up x) * Gate x)</c>.
/// </summary>
internal sealed class FeedForwardWeights(LinearWeights up, LinearWeights? gate, LinearWeights down)
{
    public LinearWeights Up { get; } = up;

    public LinearWeights? Gate { get; } = gate;

    public LinearWeights Down { get; } = down;

    public int Width => Up.Out;

    /// <summary>Writes the block's output for <paramref name="rows"/> rows; the scratch buffers hold rows × Width.</summary>
    public void Apply(ReadOnlySpan<float> x, Span<float> y, int rows, Activation activation, Span<float> hidden, Span<float> gateScratch)
    {
        int n = rows * Width;
        Up.Apply(x, hidden, rows, activation);
        if (Gate is not null)
        {
            Gate.Apply(x, gateScratch, rows);
            for (int i = 0; i < n; i++)
            {
                hidden[i] *= gateScratch[i];
            }
        }

        Down.Apply(hidden, y, rows);
    }
}
