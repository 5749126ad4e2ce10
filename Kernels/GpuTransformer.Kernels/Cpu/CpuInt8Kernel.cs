namespace GpuTransformer.Kernels.Cpu;

/// <summary>Which micro-kernel an int8 GEMM runs, and so how <see cref="CpuInt8Weight"/> packs its panels.</summary>
public enum CpuInt8Kernel
{
    /// <summary>The fastest this processor has: <see cref="AvxVnni"/> where it has AVX-VNNI, else <see cref="Avx2"/>.</summary>
    Best = 0,

    /// <summary>
    /// AVX2's <c>vpmaddwd</c> on values widened to int16: two K values per product pair, exact int32 sums with no
    /// saturation. For processors without VNNI (AMD Zen 1-3, Intel before Alder Lake and Ice Lake).
    /// </summary>
    Avx2 = 1,

    /// <summary>AVX-VNNI's <c>vpdpbusd</c>: four K values of unsigned-offset activations and signed weights per product.</summary>
    AvxVnni = 2,
}
