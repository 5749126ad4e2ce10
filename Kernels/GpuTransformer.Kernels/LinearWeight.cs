using System.Runtime.InteropServices;
using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;

namespace GpuTransformer.Kernels;

/// <summary>
/// The weight (and optional bias) of one <c>nn.Linear</c>, uploaded once to an accelerator in PyTorch's
/// <c>[out, in]</c> layout; <see cref="Gemm.Linear(Accelerator, ArrayView{float}, LinearWeight, ArrayView{float}, int, Activation)"/>
/// multiplies by its transpose. A token embedding table is the same shape, so a tied output projection and the
/// embedding lookup share one. On the <c>cpu</c> backend with AVX-512 or AVX2 + FMA a GEMM weight is held only packed, in the
/// panel layout of the CPU GEMM's micro-kernel (<see cref="CpuPackedWeight"/>): the lookup of a tied table reads its
/// rows back out of the panels, so every weight is held once. Created for <see cref="Kernels.ComputeType.Int8"/> (cpu
/// only) a GEMM weight is held only quantized (<see cref="CpuInt8Weight"/>); a tied table then keeps its row-major
/// floats for the lookup beside the int8 copy.
/// </summary>
public sealed class LinearWeight : IDisposable
{
    // Rows per block when a weight is streamed into a row-major buffer: 1 MiB of floats at d_model 512.
    private const int UploadBlockElements = 1 << 18;

    private readonly MemoryBuffer<float>? weight;
    private readonly MemoryBuffer<float>? bias;

    private LinearWeight(Accelerator accelerator, MemoryBuffer<float>? weight, MemoryBuffer<float>? bias, CpuPackedWeight? packed, int outFeatures, int inFeatures, CpuInt8Weight? int8 = null)
    {
        Accelerator = accelerator;
        Int8 = int8;
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
    public Accelerator Accelerator { get; }

    /// <summary>
    /// The weight, <see cref="Out"/> rows of <see cref="In"/>; empty where only the packed layout is held (the
    /// <c>cpu</c> backend with AVX-512 or AVX2 + FMA).
    /// </summary>
    public ArrayView<float> Weight => weight?.View ?? default;

    /// <summary>The bias of <see cref="Out"/> elements, or an empty view.</summary>
    public ArrayView<float> Bias => bias?.View ?? default;

    /// <summary>Bytes the weight and bias occupy on the device, in every layout held.</summary>
    public long Bytes => (weight?.Memory.Bytes ?? 0) + (bias?.Memory.Bytes ?? 0) + (Packed?.Bytes ?? 0) + (Int8?.Bytes ?? 0);

    /// <summary>The CPU GEMM's packed copy, or null on other backends, on processors with neither AVX-512 nor AVX2 + FMA, and for lookup-only tables.</summary>
    internal CpuPackedWeight? Packed { get; }

    /// <summary>The int8 quantized copy, the only one held when the weight was created for <see cref="ComputeType.Int8"/>.</summary>
    internal CpuInt8Weight? Int8 { get; }

    /// <summary>The arithmetic of the GEMMs against this weight.</summary>
    public ComputeType ComputeType => Int8 is null ? ComputeType.Float32 : ComputeType.Int8;

    /// <summary>Uploads a GEMM weight and bias.</summary>
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

        CheckBias(bias, outFeatures);
        if (PacksOn(accelerator, LinearWeightUse.Gemm))
        {
            var packed = CpuPackedWeight.Create(weight, bias, outFeatures, inFeatures);
            return WithBias(accelerator, null, packed, bias, outFeatures, inFeatures);
        }

        return WithBias(accelerator, accelerator.Upload(weight), null, bias, outFeatures, inFeatures);
    }

    /// <summary>
    /// Uploads a weight that <paramref name="readRows"/> streams a block of rows at a time, in the layouts
    /// <paramref name="use"/> needs: loading then holds at most one block besides the result.
    /// </summary>
    /// <param name="accelerator">Where it will be used.</param>
    /// <param name="outFeatures">Rows.</param>
    /// <param name="inFeatures">Columns.</param>
    /// <param name="bias"><paramref name="outFeatures"/> values, or empty for none.</param>
    /// <param name="readRows">Fills a span with whole rows from a given row on.</param>
    /// <param name="use">What reads the weight.</param>
    /// <param name="computeType">
    /// <see cref="ComputeType.Int8"/> quantizes the weight per output row for the GEMM (<see cref="CpuInt8Weight"/>), on the
    /// <c>cpu</c> backend; a weight a lookup also reads keeps its float rows for the lookup.
    /// </param>
    /// <returns>The weight; dispose it.</returns>
    /// <exception cref="ArgumentException">
    /// The bias does not have the stated size or <paramref name="use"/> is none.
    /// </exception>
    /// <exception cref="NotSupportedException">Int8 on an accelerator other than <c>cpu</c>, or on a processor without AVX2.</exception>
    public static unsafe LinearWeight Create(Accelerator accelerator, int outFeatures, int inFeatures, ReadOnlySpan<float> bias, WeightRowReader readRows, LinearWeightUse use = LinearWeightUse.Gemm, ComputeType computeType = ComputeType.Float32)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(readRows);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        if ((use & LinearWeightUse.GemmAndLookup) == 0)
        {
            throw new ArgumentException("a weight must be read by a GEMM, a lookup or both", nameof(use));
        }

        CheckBias(bias, outFeatures);
        if (computeType == ComputeType.Int8)
        {
            CheckInt8(accelerator);
            var int8 = CpuInt8Weight.Create(outFeatures, inFeatures, bias, readRows);
            if (use == LinearWeightUse.Gemm)
            {
                return new LinearWeight(accelerator, null, null, null, outFeatures, inFeatures, int8);
            }

            // A tied table is also looked up, and embeddings stay float: keep the row-major floats for the lookup
            // beside the int8 copy for the GEMM (a quarter more memory than the packed floats alone).
            try
            {
                return new LinearWeight(accelerator, UploadRows(accelerator, outFeatures, inFeatures, readRows), null, null, outFeatures, inFeatures, int8);
            }
            catch
            {
                int8.Dispose();
                throw;
            }
        }

        if (PacksOn(accelerator, use))
        {
            return WithBias(accelerator, null, CpuPackedWeight.Create(outFeatures, inFeatures, bias, readRows), bias, outFeatures, inFeatures);
        }

        return WithBias(accelerator, UploadRows(accelerator, outFeatures, inFeatures, readRows), null, bias, outFeatures, inFeatures);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        weight?.Dispose();
        bias?.Dispose();
        Packed?.Dispose();
        Int8?.Dispose();
    }

    /// <summary>Throws unless int8 GEMMs run on <paramref name="accelerator"/>.</summary>
    /// <param name="accelerator">The accelerator asked for.</param>
    /// <exception cref="NotSupportedException">It is not the <c>cpu</c> backend, or the processor lacks AVX2.</exception>
    public static void CheckInt8(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.Kind != AcceleratorKind.Cpu)
        {
            throw new NotSupportedException($"int8 compute is implemented only on the cpu backend, not on {accelerator.Id}");
        }

        if (!CpuInt8Weight.IsSupported)
        {
            throw new NotSupportedException("int8 compute on cpu needs a processor with AVX2 and FMA; this one lacks them, use float32");
        }
    }

    private static unsafe MemoryBuffer<float> UploadRows(Accelerator accelerator, int outFeatures, int inFeatures, WeightRowReader readRows)
    {
        var buffer = accelerator.Allocate<float>(checked(outFeatures * inFeatures));
        int blockRows = Math.Clamp(UploadBlockElements / inFeatures, 1, outFeatures);
        float* block = (float*)NativeMemory.Alloc((nuint)blockRows * (nuint)inFeatures, sizeof(float));
        try
        {
            for (int first = 0; first < outFeatures; first += blockRows)
            {
                int rows = Math.Min(blockRows, outFeatures - first);
                var span = new Span<float>(block, rows * inFeatures);
                readRows(first, span);
                buffer.CopyFrom(span, first * inFeatures);
            }
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        finally
        {
            NativeMemory.Free(block);
        }

        return buffer;
    }

    // Lookup-only tables stay row-major: packing them would only make each row a strided read.
    private static bool PacksOn(Accelerator accelerator, LinearWeightUse use) =>
        (use & LinearWeightUse.Gemm) != 0 && accelerator.Kind == AcceleratorKind.Cpu && CpuPackedWeight.IsSupported;

    private static void CheckBias(ReadOnlySpan<float> bias, int outFeatures)
    {
        if (!bias.IsEmpty && bias.Length != outFeatures)
        {
            throw new ArgumentException($"bias has {bias.Length} elements, expected {outFeatures}", nameof(bias));
        }
    }

    private static LinearWeight WithBias(Accelerator accelerator, MemoryBuffer<float>? weight, CpuPackedWeight? packed, ReadOnlySpan<float> bias, int outFeatures, int inFeatures)
    {
        MemoryBuffer<float>? b = null;
        try
        {
            // The packed layout carries its own padded bias; the plain one is kept only where a kernel reads it.
            b = bias.IsEmpty || packed is not null ? null : accelerator.Upload(bias);
            return new LinearWeight(accelerator, weight, b, packed, outFeatures, inFeatures);
        }
        catch
        {
            weight?.Dispose();
            packed?.Dispose();
            throw;
        }
    }
}
