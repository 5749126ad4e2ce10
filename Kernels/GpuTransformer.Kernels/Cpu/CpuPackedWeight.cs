using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// An <c>nn.Linear</c> weight repacked once, at load, into the panel layout of <see cref="CpuPackedGemm"/>'s
/// micro-kernel: panels of <see cref="PanelWidth"/> output features, each stored k-major
/// (<c>panel[k * PanelWidth + j] = W[panel * PanelWidth + j, k]</c>), so that one step of the kernel reads two
/// consecutive 64-byte vectors. The last panel is padded with zero rows and the bias with zeros, so the kernel never
/// needs a scalar tail along N. Native 64-byte-aligned memory: no GC pressure and aligned vector loads.
/// </summary>
public sealed unsafe class CpuPackedWeight : IDisposable
{
    /// <summary>Output features per panel: two Vector512 of floats.</summary>
    public const int PanelWidth = 32;

    private float* panels;
    private float* bias;

    private CpuPackedWeight(int outFeatures, int inFeatures)
    {
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

    /// <summary>Whether this machine runs the packed kernel (512-bit SIMD); elsewhere the row-major kernel is used.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

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
    /// <returns>The packed weight; dispose it.</returns>
    /// <exception cref="ArgumentException">The spans do not have the stated sizes.</exception>
    public static CpuPackedWeight Create(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        if (weight.Length != (long)outFeatures * inFeatures || (!bias.IsEmpty && bias.Length != outFeatures))
        {
            throw new ArgumentException($"packing needs {outFeatures}x{inFeatures} weights and {outFeatures} or 0 biases, got {weight.Length} and {bias.Length}");
        }

        var packed = new CpuPackedWeight(outFeatures, inFeatures);
        int k = inFeatures;
        fixed (float* w = weight)
        {
            for (int p = 0; p < packed.Panels; p++)
            {
                float* dst = packed.panels + (long)p * PanelWidth * k;
                int rows = Math.Min(PanelWidth, outFeatures - p * PanelWidth);
                if (rows < PanelWidth)
                {
                    new Span<float>(dst, PanelWidth * k).Clear();
                }

                // Transpose a 32 x K strip: read each weight row once, write it strided (the strip fits in L2).
                for (int j = 0; j < rows; j++)
                {
                    float* src = w + (long)(p * PanelWidth + j) * k;
                    for (int i = 0; i < k; i++)
                    {
                        dst[(long)i * PanelWidth + j] = src[i];
                    }
                }
            }
        }

        var b = new Span<float>(packed.bias, packed.Panels * PanelWidth);
        b.Clear();
        bias.CopyTo(b);
        packed.HasBias = !bias.IsEmpty;
        return packed;
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
