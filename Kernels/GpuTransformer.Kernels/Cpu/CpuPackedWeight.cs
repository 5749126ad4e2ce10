using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// An <c>nn.Linear</c> weight repacked once, at load, into the panel layout of one of <see cref="CpuPackedGemm"/>'s
/// micro-kernels: panels of <see cref="PanelWidth"/> output features, each stored k-major. For the Vector512 kernel a
/// step of K is one row of the panel (<c>panel[k * 32 + j] = W[panel * 32 + j, k]</c>): two consecutive 64-byte
/// vectors. For the Vector256 kernel, which reads a panel as two halves of 16 features, the halves are stored one after
/// the other (<c>panel[(j / 16) * 16 * K + k * 16 + j % 16]</c>), so that each half is one sequential stream of 64-byte
/// lines rather than every other line of the panel. The last panel is padded with zero rows and the bias with zeros,
/// so neither kernel needs a scalar tail along N. Native 64-byte-aligned memory: no GC pressure and aligned vector
/// loads.
/// </summary>
public sealed unsafe class CpuPackedWeight : IDisposable
{
    /// <summary>Output features per panel: two Vector512 of floats, or two halves of two Vector256.</summary>
    public const int PanelWidth = 32;

    // Features per half panel in the Vector256 kernel's layout.
    private const int HalfWidth = PanelWidth / 2;

    /// <summary>Rows read per block by the streaming <see cref="Create(int, int, ReadOnlySpan{float}, WeightRowReader, CpuSimdWidth)"/>: a multiple of <see cref="PanelWidth"/>.</summary>
    public const int BlockRows = 1024;

    private float* panels;
    private float* bias;

    private CpuPackedWeight(int outFeatures, int inFeatures, CpuSimdWidth kernel)
    {
        Kernel = kernel switch
        {
            CpuSimdWidth.Best => HasVector512 ? CpuSimdWidth.Vector512 : CpuSimdWidth.Vector256,
            CpuSimdWidth.Vector512 or CpuSimdWidth.Vector256 => kernel,
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown SIMD width"),
        };
        Out = outFeatures;
        In = inFeatures;
        Panels = (outFeatures + PanelWidth - 1) / PanelWidth;
        nuint floats = (nuint)Panels * PanelWidth * (nuint)inFeatures;
        panels = (float*)NativeMemory.AlignedAlloc(floats * sizeof(float), 64);
        bias = (float*)NativeMemory.AlignedAlloc((nuint)Panels * PanelWidth * sizeof(float), 64);
        GC.AddMemoryPressure((long)(floats * sizeof(float)));
    }

    /// <summary>Finalizes an undisposed weight by freeing its native memory.</summary>
    ~CpuPackedWeight() => Free();

    /// <summary>Whether this machine runs the packed kernel (AVX-512, or AVX2 with FMA); elsewhere the row-major kernel is used.</summary>
    public static bool IsSupported => HasVector512 || HasVector256;

    /// <summary>Whether the Vector512 micro-kernel runs here (the runtime accelerates 512-bit vectors).</summary>
    public static bool HasVector512 => Vector512.IsHardwareAccelerated;

    /// <summary>Whether the Vector256 micro-kernel runs here (256-bit vectors accelerated and fused multiply-add).</summary>
    public static bool HasVector256 => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>
    /// The micro-kernel whose layout the panels have, <see cref="CpuSimdWidth.Vector512"/> or
    /// <see cref="CpuSimdWidth.Vector256"/>: only that kernel reads them. Packing may name a kernel this processor
    /// lacks (the layout is only an order of floats); running it is refused.
    /// </summary>
    public CpuSimdWidth Kernel { get; }

    /// <summary>Output features (N).</summary>
    public int Out { get; }

    /// <summary>Input features (K).</summary>
    public int In { get; }

    /// <summary>Panels of <see cref="PanelWidth"/> output features.</summary>
    public int Panels { get; }

    /// <summary>Bytes of native memory held.</summary>
    public long Bytes => ((long)Panels * PanelWidth * In + (long)Panels * PanelWidth) * sizeof(float);

    /// <summary>Whether a bias was given.</summary>
    public bool HasBias { get; private set; }

    internal float* PanelData => panels;

    internal float* BiasData => bias;

    /// <summary>Packs a row-major [out, in] weight and its bias.</summary>
    /// <param name="weight"><paramref name="outFeatures"/> rows of <paramref name="inFeatures"/>.</param>
    /// <param name="bias"><paramref name="outFeatures"/> values or empty.</param>
    /// <param name="outFeatures">N.</param>
    /// <param name="inFeatures">K.</param>
    /// <param name="kernel">The micro-kernel to lay the panels out for: <see cref="CpuSimdWidth.Best"/> is the widest this processor runs.</param>
    /// <returns>The packed weight; dispose it.</returns>
    /// <exception cref="ArgumentException">The spans do not have the stated sizes.</exception>
    public static CpuPackedWeight Create(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures, CpuSimdWidth kernel = CpuSimdWidth.Best)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        if (weight.Length != (long)outFeatures * inFeatures || (!bias.IsEmpty && bias.Length != outFeatures))
        {
            throw new ArgumentException($"packing needs {outFeatures}x{inFeatures} weights and {outFeatures} or 0 biases, got {weight.Length} and {bias.Length}");
        }

        var packed = new CpuPackedWeight(outFeatures, inFeatures, kernel);
        packed.PackRows(0, weight);
        packed.SetBias(bias);
        return packed;
    }

    /// <summary>
    /// Packs a weight that <paramref name="readRows"/> delivers a block of rows at a time, so that no row-major copy
    /// of the whole weight is ever held: the transient is one block of at most <see cref="BlockRows"/> rows.
    /// </summary>
    /// <param name="outFeatures">N.</param>
    /// <param name="inFeatures">K.</param>
    /// <param name="bias"><paramref name="outFeatures"/> values or empty.</param>
    /// <param name="readRows">Fills a span with consecutive rows starting at the given row.</param>
    /// <param name="kernel">The micro-kernel to lay the panels out for: <see cref="CpuSimdWidth.Best"/> is the widest this processor runs.</param>
    /// <returns>The packed weight; dispose it.</returns>
    /// <exception cref="ArgumentException">The bias does not have the stated size.</exception>
    public static CpuPackedWeight Create(int outFeatures, int inFeatures, ReadOnlySpan<float> bias, WeightRowReader readRows, CpuSimdWidth kernel = CpuSimdWidth.Best)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentNullException.ThrowIfNull(readRows);
        if (!bias.IsEmpty && bias.Length != outFeatures)
        {
            throw new ArgumentException($"packing needs {outFeatures} or 0 biases, got {bias.Length}", nameof(bias));
        }

        var packed = new CpuPackedWeight(outFeatures, inFeatures, kernel);
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

        packed.SetBias(bias);
        return packed;
    }

    /// <summary>Copies row <paramref name="row"/> of the original [out, in] weight back out of the panels.</summary>
    /// <param name="row">The output feature (an embedding id when the weight is a tied embedding table).</param>
    /// <param name="destination"><see cref="In"/> values.</param>
    /// <param name="scale">Multiplies every value.</param>
    /// <exception cref="ArgumentOutOfRangeException">The row is outside the weight.</exception>
    /// <exception cref="ArgumentException">The destination is shorter than a row.</exception>
    public void ReadRow(int row, Span<float> destination, float scale = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Out);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, In, nameof(destination));
        ObjectDisposedException.ThrowIf(panels == null, this);

        // Row j of a panel is column j of its k-major strip: a strided read, one cache line per 16 or 32 values of K.
        float* src = panels + (long)(row / PanelWidth) * PanelWidth * In + FeatureOffset(row % PanelWidth);
        int step = StepStride;
        for (int i = 0; i < In; i++)
        {
            destination[i] = src[(long)i * step] * scale;
        }
    }

    // Floats between one step of K and the next within the features a kernel reads together: a panel row (32) for
    // the Vector512 kernel, a half-panel row (16) for the Vector256 kernel.
    private int StepStride => Kernel == CpuSimdWidth.Vector512 ? PanelWidth : HalfWidth;

    // Where feature j (0-31) of a panel starts, at step 0 of K.
    private long FeatureOffset(int j) => Kernel == CpuSimdWidth.Vector512 ? j : ((long)(j / HalfWidth) * HalfWidth * In) + (j % HalfWidth);

    private void PackRows(int firstRow, ReadOnlySpan<float> rowsData)
    {
        int k = In;
        int rowCount = rowsData.Length / k;
        fixed (float* w = rowsData)
        {
            for (int r = 0; r < rowCount;)
            {
                int row = firstRow + r;
                int p = row / PanelWidth;
                float* dst = panels + (long)p * PanelWidth * k;
                int j0 = row % PanelWidth;
                int rows = Math.Min(PanelWidth - j0, rowCount - r);
                if (j0 == 0 && p == Panels - 1 && Out % PanelWidth != 0)
                {
                    // The last panel's padding rows stay zero so the kernel needs no scalar tail along N.
                    new Span<float>(dst, PanelWidth * k).Clear();
                }

                // Transpose a strip of up to 32 x K: read each weight row once, write it strided (the strip fits in L2).
                int step = StepStride;
                for (int j = 0; j < rows; j++)
                {
                    float* src = w + (long)(r + j) * k;
                    float* d = dst + FeatureOffset(j0 + j);
                    for (int i = 0; i < k; i++)
                    {
                        d[(long)i * step] = src[i];
                    }
                }

                r += rows;
            }
        }
    }

    private void SetBias(ReadOnlySpan<float> bias)
    {
        var b = new Span<float>(this.bias, Panels * PanelWidth);
        b.Clear();
        bias.CopyTo(b);
        HasBias = !bias.IsEmpty;
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
            NativeMemory.AlignedFree(bias);
            GC.RemoveMemoryPressure(Bytes - (long)Panels * PanelWidth * sizeof(float));
            panels = null;
            bias = null;
        }
    }
}
