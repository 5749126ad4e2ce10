using GpuTransformer.Kernels;
using GpuTransformer.Runtime;

namespace GpuTransformer.Model.Architectures;

/// <summary>
/// The position-wise feed-forward block: <c>Down(act(Up x))</c>, or gated (T5 v1.1) <c>Down(act(Up x) * Gate x)</c>.
/// </summary>
internal sealed class FeedForwardWeights(LinearWeight up, LinearWeight? gate, LinearWeight down)
{
    public LinearWeight Up { get; } = up;

    public LinearWeight? Gate { get; } = gate;

    public LinearWeight Down { get; } = down;

    public int Width => Up.Out;

    /// <summary>Writes the block's output for <paramref name="rows"/> rows; the scratch views hold rows × Width.</summary>
    public void Apply(Accelerator accelerator, ArrayView<float> x, ArrayView<float> y, int rows, Activation activation, ArrayView<float> hidden, ArrayView<float> gateScratch)
    {
        Gemm.Linear(accelerator, x, Up, hidden, rows, activation);
        if (Gate is not null)
        {
            Gemm.Linear(accelerator, x, Gate, gateScratch, rows);
            Elementwise.Multiply(accelerator, gateScratch, hidden, rows * Width);
        }

        Gemm.Linear(accelerator, hidden, Down, y, rows);
    }
}
