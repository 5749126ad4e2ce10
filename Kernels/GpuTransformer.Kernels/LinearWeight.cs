using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// The weight (and optional bias) of one <c>nn.Linear</c>, uploaded once to an accelerator in PyTorch's
/// <c>[out, in]</c> layout; <see cref="Gemm.Linear(Accelerator, ArrayView{float}, LinearWeight, ArrayView{float}, int, Activation)"/>
/// multiplies by its transpose. A token embedding table is the same shape, so a tied output projection and the
/// embedding lookup share one. On the <c>cpu</c> backend with 512-bit SIMD the weight is also packed, once, into the
/// panel layout of the CPU GEMM's micro-kernel (<see cref="CpuPackedWeight"/>); the row-major copy stays for the
/// embedding lookup and for callers that read <see cref="Weight"/>.
/// </summary>
public sealed class LinearWeight : IDisposable
{
    private readonly MemoryBuffer<float> weight;
    private readonly MemoryBuffer<float>? bias;

    private LinearWeight(MemoryBuffer<float> weight, MemoryBuffer<float>? bias, CpuPackedWeight? packed, int outFeatures, int inFeatures)
    {
        this.weight = weight;
        this.bias = bias;
        Packed = packed;
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

    /// <summary>Bytes the weight and bias occupy on the device, the CPU's packed copy included.</summary>
    public long Bytes => weight.Memory.Bytes + (bias?.Memory.Bytes ?? 0) + (Packed?.Bytes ?? 0);

    /// <summary>The CPU GEMM's packed copy, or null on other backends and on machines without 512-bit SIMD.</summary>
    internal CpuPackedWeight? Packed { get; }

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
        MemoryBuffer<float>? b = null;
        try
        {
            b = bias.IsEmpty ? null : accelerator.Upload(bias);
            var packed = accelerator.Kind == AcceleratorKind.Cpu && CpuPackedWeight.IsSupported ? CpuPackedWeight.Create(weight, bias, outFeatures, inFeatures) : null;
            return new LinearWeight(w, b, packed, outFeatures, inFeatures);
        }
        catch
        {
            w.Dispose();
            b?.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        weight.Dispose();
        bias?.Dispose();
        Packed?.Dispose();
    }
}
