using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuTransformer.Bench;

/// <summary>
/// The read bandwidth from memory: Vector256 loads summed over a buffer far larger than the caches, one slice per
/// thread, best of several passes. It bounds the GEMM shapes that read every weight once per call (decoding, M ≤ 4),
/// which no kernel can run faster than bytes of weight / this bandwidth.
/// </summary>
public static unsafe class MemoryBandwidth
{
    private const long Bytes = 1L << 30;
    private const int Passes = 5;

    /// <summary>Measures and prints the figures.</summary>
    /// <param name="output">Where they go.</param>
    public static void Report(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        float* data = (float*)NativeMemory.AlignedAlloc((nuint)Bytes, 64);
        try
        {
            new Span<byte>(data, (int)Bytes).Fill(1);
            var inv = CultureInfo.InvariantCulture;
            int cores = Environment.ProcessorCount;
            output.WriteLine(string.Create(inv, $"Memory read bandwidth, {Bytes >> 20} MiB buffer, best of {Passes} passes"));
            output.WriteLine(string.Create(inv, $"  1 thread:  {Measure(data, 1):F1} GB/s"));
            output.WriteLine(string.Create(inv, $"  {cores} threads: {Measure(data, cores):F1} GB/s"));
        }
        finally
        {
            NativeMemory.AlignedFree(data);
        }
    }

    private static double Measure(float* data, int threads)
    {
        long slice = Bytes / sizeof(float) / threads / 64 * 64;
        nint start = (nint)data;
        double best = 0;
        for (int pass = 0; pass < Passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => Sum((float*)start + slice * t, slice));
            best = Math.Max(best, slice * threads * sizeof(float) / clock.Elapsed.TotalSeconds / 1e9);
        }

        return best;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Sum(float* p, long n)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (long i = 0; i < n; i += 32)
        {
            s0 += Vector256.LoadAligned(p + i);
            s1 += Vector256.LoadAligned(p + i + 8);
            s2 += Vector256.LoadAligned(p + i + 16);
            s3 += Vector256.LoadAligned(p + i + 24);
        }

        return Vector256.Sum(s0 + s1 + s2 + s3);
    }
}
