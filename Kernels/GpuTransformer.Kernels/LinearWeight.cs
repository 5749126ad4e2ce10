using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// The weight (and optional bias) of one <c>nn.Linear</c>, uploaded once to an accelerator in PyTorch's
/// <c>[out, in]</c> layout; <see cref="Gemm.Linear(Accelerator, ArrayView{float}, LinearWeight, ArrayView{float}, int, Activation)"/>
/// multiplies by its transpose. A token embedding table is the same shape, so a tied output projection and the
/// embedding lookup share one.
/// </summary>
public sealed class LinearWeight : IDisposable
{
    private readonly MemoryBuffer<float> weight;
    private readonly MemoryBuffer<float>? bias;

    private LinearWeight(MemoryBuffer<float> weight, MemoryBuffer<float>? bias, int outFeatures, int inFeatures)
    {
        this.weight = weight;
        this.bias = bias;
        Out = outFeatures;
        In = inFeatures;
    }

    /// <summary>Output features (rows of the weight).</summary>
    public int Out { get; }

    /// <summary>Input features (columns of the weight).</summary>
    public int In { get; }

    /// <summary>The accelerator the weight lives on.</summary>
    public Accelerator Accelerator => weight.Accelerator;

    /// <summary>The weight, <see cref="Out"/> rows of <see cref="In"/>.</summary>
    public ArrayView<float> Weight => weight.View;

    /// <summary>The bias of <see cref="Out"/> elements, or an empty view.</summary>
    public ArrayView<float> Bias => bias?.View ?? default;

    /// <summary>Bytes the weight and bias occupy on the device.</summary>
    public long Bytes => weight.Memory.Bytes + (bias?.Memory.Bytes ?? 0);

    /// <summary>Uploads a weight and bias.</summary>
    /// <param name="accelerator">Where it will be used.</param>
    /// <param name="weight"><paramref name="outFeatures"/> rows of <paramref name="inFeatures"/>, row-major.</param>
    /// <param name="bias"><paramref name="outFeatures"/> values, or empty for none.</param>
    /// <param name="outFeatures">Rows.</param>
    /// <param name="inFeatures">Columns.</param>
    /// <returns>The weight; dispose it.</returns>
    /// <exception cref="ArgumentException">The spans do not have the stated sizes.</exception>
    public static LinearWeight Create(Accelerator accelerator, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        if (weight.Length != (long)outFeatures * inFeatures)
        {
            throw new ArgumentException($"weight has {weight.Length} elements, expected {outFeatures}x{inFeatures}", nameof(weight));
        }

        if (!bias.IsEmpty && bias.Length != outFeatures)
        {
            throw new ArgumentException($"bias has {bias.Length} elements, expected {outFeatures}", nameof(bias));
        }

        var w = accelerator.Upload(weight);
        try
        {
            return new LinearWeight(w, bias.IsEmpty ? null : accelerator.Upload(bias), outFeatures, inFeatures);
        }
        catch
        {
            w.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        weight.Dispose();
        bias?.Dispose();
    }
}
