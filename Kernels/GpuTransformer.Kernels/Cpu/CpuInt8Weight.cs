using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// An <c>nn.Linear</c> weight quantized once, at load, to int8 per output row (<see cref="CpuInt8Quantizer"/>) and
/// packed for one of <see cref="CpuInt8Gemm"/>'s micro-kernels (<see cref="Kernel"/>): panels of
/// <see cref="PanelWidth"/> output features, and within a panel groups of <see cref="KGroup"/> consecutive K values
/// (4 for <c>vpdpbusd</c>, 2 for <c>vpmaddwd</c>), so that
/// <c>panel[(k / G) * 16G + j * G + k % G] = Wq[panel * 16 + j, k]</c> and one step of either kernel reads 16
/// features × G values of K. K is padded to a multiple of 4 and the last panel to 16 features with zeros, so the
/// kernels have no tails. Beside the panels it keeps, per feature, the scale, the bias, and for the VNNI kernel
/// <c>128 · Σₖ Wq[j, k]</c>, which the epilogue subtracts to undo the +128 offset that makes activations unsigned
/// (zero for the AVX2 kernel, whose activations stay signed).
/// </summary>
public sealed unsafe class CpuInt8Weight : IDisposable
{
    /// <summary>Output features per panel: two Vector256 of int32 accumulators.</summary>
    public const int PanelWidth = 16;

    private const int BlockRows = 1024;

    private sbyte* panels;
    private float* scales;
    private float* bias;
    private int* offsets;

    private CpuInt8Weight(int outFeatures, int inFeatures, CpuInt8Kernel kernel)
    {
        Kernel = Resolve(kernel);
        Out = outFeatures;
        In = inFeatures;
        PaddedIn = (inFeatures + 3) & ~3;
        Panels = (outFeatures + PanelWidth - 1) / PanelWidth;
        nuint features = (nuint)Panels * PanelWidth;
        panels = (sbyte*)NativeMemory.AlignedAlloc(features * (nuint)PaddedIn, 64);
        new Span<sbyte>(panels, checked((int)(features * (nuint)PaddedIn))).Clear();
        scales = (float*)NativeMemory.AlignedAlloc(features * sizeof(float), 64);
        bias = (float*)NativeMemory.AlignedAlloc(features * sizeof(float), 64);
        offsets = (int*)NativeMemory.AlignedAlloc(features * sizeof(int), 64);
        new Span<float>(scales, (int)features).Clear();
        new Span<float>(bias, (int)features).Clear();
        new Span<int>(offsets, (int)features).Clear();
        GC.AddMemoryPressure(Bytes);
    }

    /// <summary>Finalizes an undisposed weight by freeing its native memory.</summary>
    ~CpuInt8Weight() => Free();

    /// <summary>
    /// Whether this machine runs an int8 kernel: AVX2 with FMA is enough (<see cref="CpuInt8Kernel.Avx2"/>); AVX-VNNI's
    /// <c>vpdpbusd</c> is used where present. .NET 10 exposes that instruction only in its VEX (AVX-VNNI, 256-bit)
    /// form, so AVX-512-VNNI-only processors run the AVX2 kernel.
    /// </summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The micro-kernel the panels are packed for.</summary>
    public CpuInt8Kernel Kernel { get; }

    /// <summary>Consecutive K values per feature in a step of the panels: 4 for AVX-VNNI, 2 for AVX2.</summary>
    public int KGroup => Kernel == CpuInt8Kernel.AvxVnni ? 4 : 2;

    /// <summary>Output features (N).</summary>
    public int Out { get; }

    /// <summary>Input features (K).</summary>
    public int In { get; }

    /// <summary>K rounded up to a multiple of 4, the bytes of one quantized activation row.</summary>
    public int PaddedIn { get; }

    /// <summary>Panels of <see cref="PanelWidth"/> output features.</summary>
    public int Panels { get; }

    /// <summary>Bytes of native memory held.</summary>
    public long Bytes => (long)Panels * PanelWidth * (PaddedIn + 3 * sizeof(float));

    internal sbyte* PanelData => panels;

    internal float* ScaleData => scales;

    internal float* BiasData => bias;

    internal int* OffsetData => offsets;

    /// <summary>Quantizes and packs a row-major [out, in] weight and its bias.</summary>
    /// <param name="weight"><paramref name="outFeatures"/> rows of <paramref name="inFeatures"/>.</param>
    /// <param name="bias"><paramref name="outFeatures"/> values or empty.</param>
    /// <param name="outFeatures">N.</param>
    /// <param name="inFeatures">K.</param>
    /// <param name="kernel">The micro-kernel to pack for.</param>
    /// <returns>The packed weight; dispose it.</returns>
    /// <exception cref="ArgumentException">The spans do not have the stated sizes.</exception>
    /// <exception cref="PlatformNotSupportedException">The processor lacks the instructions of <paramref name="kernel"/>.</exception>
    public static CpuInt8Weight Create(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures, CpuInt8Kernel kernel = CpuInt8Kernel.Best)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        if (weight.Length != (long)outFeatures * inFeatures || (!bias.IsEmpty && bias.Length != outFeatures))
        {
            throw new ArgumentException($"packing needs {outFeatures}x{inFeatures} weights and {outFeatures} or 0 biases, got {weight.Length} and {bias.Length}");
        }

        var packed = new CpuInt8Weight(outFeatures, inFeatures, kernel);
        packed.PackRows(0, weight);
        bias.CopyTo(new Span<float>(packed.bias, outFeatures));
        return packed;
    }

    /// <summary>Quantizes and packs a weight that <paramref name="readRows"/> streams a block of rows at a time.</summary>
    /// <param name="outFeatures">N.</param>
    /// <param name="inFeatures">K.</param>
    /// <param name="bias"><paramref name="outFeatures"/> values or empty.</param>
    /// <param name="readRows">Fills a span with consecutive rows starting at the given row.</param>
    /// <param name="kernel">The micro-kernel to pack for.</param>
    /// <returns>The packed weight; dispose it.</returns>
    /// <exception cref="ArgumentException">The bias does not have the stated size.</exception>
    /// <exception cref="PlatformNotSupportedException">The processor lacks the instructions of <paramref name="kernel"/>.</exception>
    public static CpuInt8Weight Create(int outFeatures, int inFeatures, ReadOnlySpan<float> bias, WeightRowReader readRows, CpuInt8Kernel kernel = CpuInt8Kernel.Best)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentNullException.ThrowIfNull(readRows);
        if (!bias.IsEmpty && bias.Length != outFeatures)
        {
            throw new ArgumentException($"packing needs {outFeatures} or 0 biases, got {bias.Length}", nameof(bias));
        }

        var packed = new CpuInt8Weight(outFeatures, inFeatures, kernel);
        int blockRows = Math.Min(outFeatures, BlockRows);
        float* block = (float*)NativeMemory.Alloc((nuint)blockRows * (nuint)inFeatures, sizeof(float));
        try
        {
            for (int first = 0; first < outFeatures; first += blockRows)
            {
                int rows = Math.Min(blockRows, outFeatures - first);
                var span = new Span<float>(block, rows * inFeatures);
                readRows(first, span);
                packed.PackRows(first, span);
            }
        }
        catch
        {
            packed.Dispose();
            throw;
        }
        finally
        {
            NativeMemory.Free(block);
        }

        bias.CopyTo(new Span<float>(packed.bias, outFeatures));
        return packed;
    }

    /// <summary>Copies the quantized row <paramref name="row"/> out of the panels.</summary>
    /// <param name="row">The output feature.</param>
    /// <param name="destination"><see cref="In"/> values.</param>
    /// <returns>The row's scale: <c>W[row, k] ≈ destination[k] · scale</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The row is outside the weight or the destination too short.</exception>
    public float ReadQuantizedRow(int row, Span<sbyte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Out);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, In, nameof(destination));
        ObjectDisposedException.ThrowIf(panels == null, this);
        sbyte* src = panels + (long)(row / PanelWidth) * PanelWidth * PaddedIn + (row % PanelWidth) * KGroup;
        for (int i = 0; i < In; i++)
        {
            destination[i] = src[(i / KGroup * PanelWidth * KGroup) + (i % KGroup)];
        }

        return scales[row];
    }

    private void PackRows(int firstRow, ReadOnlySpan<float> rowsData)
    {
        // KGroup is 4 or 2, so a value's place in its group is a shift and a mask.
        int k = In, shift = KGroup == 4 ? 2 : 1, mask = KGroup - 1, step = PanelWidth * KGroup;
        int rowCount = rowsData.Length / k;
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(k);
        try
        {
            fixed (float* w = rowsData)
            fixed (byte* row = rented)
            {
                for (int r = 0; r < rowCount; r++)
                {
                    int j = firstRow + r;
                    scales[j] = CpuInt8Quantizer.QuantizeRow(w + (long)r * k, k, row, 0);
                    sbyte* dst = panels + (long)(j / PanelWidth) * PanelWidth * PaddedIn + (j % PanelWidth) * KGroup;
                    int sum = 0;
                    for (int i = 0; i < k; i++)
                    {
                        sbyte v = (sbyte)row[i];
                        sum += v;
                        dst[((i >> shift) * step) + (i & mask)] = v;
                    }

                    offsets[j] = Kernel == CpuInt8Kernel.AvxVnni ? 128 * sum : 0;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The kernel that <paramref name="kernel"/> names on this processor.</summary>
    /// <param name="kernel">The kernel asked for.</param>
    /// <returns><see cref="CpuInt8Kernel.AvxVnni"/> or <see cref="CpuInt8Kernel.Avx2"/>.</returns>
    /// <exception cref="PlatformNotSupportedException">The processor lacks its instructions.</exception>
    public static CpuInt8Kernel Resolve(CpuInt8Kernel kernel)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("int8 GEMMs need a processor with AVX2 and FMA");
        }

        return kernel switch
        {
            CpuInt8Kernel.Best => AvxVnni.IsSupported ? CpuInt8Kernel.AvxVnni : CpuInt8Kernel.Avx2,
            CpuInt8Kernel.Avx2 => kernel,
            CpuInt8Kernel.AvxVnni when AvxVnni.IsSupported => kernel,
            CpuInt8Kernel.AvxVnni => throw new PlatformNotSupportedException("the AvxVnni int8 kernel needs a processor with AVX-VNNI (vpdpbusd)"),
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown int8 kernel"),
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (panels != null)
        {
            NativeMemory.AlignedFree(panels);
            NativeMemory.AlignedFree(scales);
            NativeMemory.AlignedFree(bias);
            NativeMemory.AlignedFree(offsets);
            GC.RemoveMemoryPressure(Bytes);
            panels = null;
            scales = null;
            bias = null;
            offsets = null;
        }
    }
}
