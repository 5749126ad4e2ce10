using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GpuTransformer.Runtime;
using GpuTransformer.Runtime.Cuda;

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
        var devices = DeviceCatalog.Enumerate(out var problems);
        foreach (var device in devices.Where(d => d.Kind == AcceleratorKind.Cuda))
        {
            // The compute capability decides which PTX NVRTC generates, so it is part of every CUDA line.
            stdout.WriteLine($"{device.Id,-10} {device.Name}, {device.Version}, {device.MemoryBytes / (1 << 20)} MiB, {device.ComputeUnits} multiprocessors");
        }

        if (devices.Any(d => d.Kind == AcceleratorKind.Cuda))
        {
            stdout.WriteLine($"{"cuda",-10} kernels compiled with {CudaAccelerator.CompilerStatus}");
        }

        foreach (string problem in problems.Where(p => p.StartsWith("cuda:", StringComparison.Ordinal)))
        {
            stdout.WriteLine(problem);
        }

        stdout.Flush();
        return 0;
    }
}
