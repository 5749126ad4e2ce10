namespace GpuTransformer.Kernels.Cpu;

/// <summary>Which SIMD micro-kernel a CPU op runs.</summary>
public enum CpuSimdWidth
{
    /// <summary>The widest this processor runs well (what the <c>cpu</c> backend uses).</summary>
    Best = 0,

    /// <summary>256-bit vectors with FMA (AVX2).</summary>
    Vector256 = 256,

    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512 = 512,
}
