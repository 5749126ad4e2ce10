using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Cli;

/// <summary><c>devices</c>: the devices this machine offers.</summary>
public static class DevicesCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "devices";

    /// <summary>Runs the command.</summary>
    public static int Run(CommandArguments args, TextWriter? stdout = null)
    {
        args.EnsureAllUsed();
        stdout ??= Console.Out;
        string simd = Vector512.IsHardwareAccelerated ? "AVX-512" : Avx2.IsSupported ? (Fma.IsSupported ? "AVX2+FMA" : "AVX2") : Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar";
        stdout.WriteLine($"cpu        {Environment.ProcessorCount} threads, {simd}, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 20)} MiB");
        stdout.Flush();
        return 0;
    }
}
