using System.Runtime.InteropServices;

namespace GpuTransformer.Bench;

/// <summary>Seeded operands in 64-byte-aligned native memory, so that no benchmark measures the GC.</summary>
public static unsafe class Operands
{
    /// <summary>Allocates <paramref name="count"/> floats uniform in [-1, 1); free with <see cref="NativeMemory.AlignedFree"/>.</summary>
    public static float* Random(long count, int seed)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)count * sizeof(float), 64);
        var random = new Random(seed);
        for (long i = 0; i < count; i++)
        {
            p[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return p;
    }
}
