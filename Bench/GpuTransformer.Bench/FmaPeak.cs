using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GpuTransformer.Kernels.Cpu;

namespace GpuTransformer.Bench;

/// <summary>
/// The FMA peak of one core: 12 independent Vector512 (or Vector256) FMA chains, enough to cover the 4-cycle latency
/// of two FMA ports, in registers with no memory traffic. Reported per core and for all cores (one thread per core) by
/// <c>peak</c>, and timed beside every GEMM case by <see cref="GemmBenchmarks.FmaPeakReference"/> through
/// <see cref="RunOnKernelThreads"/>, so that a case's share of the peak compares two figures of the same minute.
/// </summary>
public static unsafe class FmaPeak
{
    private const int Chains = 12;
    private const long Iterations = 200_000_000;

    /// <summary>Measures and prints the figures.</summary>
    /// <param name="output">Where they go.</param>
    public static void Report(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int width = Lanes;
        Run(Iterations / 10);
        double single = Measure(1, width);
        int cores = Environment.ProcessorCount;
        double all = Measure(cores, width);
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"FMA peak, {Chains} independent {width * 32}-bit FMA chains, {Iterations:N0} iterations per thread"));
        output.WriteLine(string.Create(inv, $"  1 thread:  {single:F1} GFLOP/s"));
        output.WriteLine(string.Create(inv, $"  {cores} threads: {all:F1} GFLOP/s ({all / cores:F1} per core)"));
    }

    /// <summary>Floating-point operations of one chain step on every thread: what <see cref="RunOnKernelThreads"/> does per iteration.</summary>
    public static double FlopsPerIteration => CpuParallel.ThreadCount * Chains * Lanes * 2.0;

    // Floats per FMA of the chains Run picks: Vector512 where it is accelerated, else Vector256.
    private static int Lanes => Vector512.IsHardwareAccelerated ? 16 : 8;

    /// <summary>Runs the chains for <paramref name="iterations"/> steps on each of the <see cref="CpuParallel.ThreadCount"/> threads the kernels use, through the same thread pool.</summary>
    /// <param name="iterations">Steps per thread.</param>
    public static void RunOnKernelThreads(long iterations) => CpuParallel.For(CpuParallel.ThreadCount, &RunWorker, &iterations);

    private static void RunWorker(int worker, void* state) => Run(*(long*)state);

    private static double Measure(int threads, int width)
    {
        var clock = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Run(Iterations));
        double seconds = clock.Elapsed.TotalSeconds;
        return threads * Iterations * Chains * width * 2.0 / seconds / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run(long iterations) => Vector512.IsHardwareAccelerated ? Run512(iterations) : Run256(iterations);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var a = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a);
            c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a);
            c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a);
            c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a);
            c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a);
            c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a);
            c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }

        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a);
            c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a);
            c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a);
            c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a);
            c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a);
            c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a);
            c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }

        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
