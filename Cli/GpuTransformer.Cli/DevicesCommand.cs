using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GpuTransformer.Kernels.Cpu;
using GpuTransformer.Runtime;
using GpuTransformer.Runtime.Cuda;

namespace GpuTransformer.Cli;

/// <summary><c>devices</c>: the devices this machine offers, and why a backend has none.</summary>
public static class DevicesCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "devices";

    /// <summary>Runs the command.</summary>
    /// <param name="args">The command's arguments (none are accepted).</param>
    /// <param name="stdout">Where the list goes; the console when null.</param>
    /// <returns>0.</returns>
    public static int Run(CommandArguments args, TextWriter? stdout = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        args.EnsureAllUsed();
        stdout ??= Console.Out;
        var devices = DeviceCatalog.Enumerate(out var problems);
        int width = devices.Max(d => d.Id.Length) + 2;
        foreach (var device in devices)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{device.Id.PadRight(width)}{Describe(device)}"));
        }

        if (devices.Any(d => d.Kind == AcceleratorKind.Cuda))
        {
            stdout.WriteLine($"{"cuda".PadRight(width)}kernels compiled with {CudaAccelerator.CompilerStatus}");
        }

        foreach (string problem in problems)
        {
            stdout.WriteLine($"absent: {problem}");
        }

        stdout.Flush();
        return 0;
    }

    private static string Describe(DeviceDescription device)
    {
        var parts = new List<string>();
        if (device.Platform is not null)
        {
            parts.Add($"platform {device.Platform}");
        }

        if (device.Kind is AcceleratorKind.OpenCL or AcceleratorKind.Cuda)
        {
            parts.Add(device.IsGpu ? "GPU" : "not a GPU");
        }

        if (device.Kind == AcceleratorKind.Cpu)
        {
            parts.Add(Vector512.IsHardwareAccelerated ? "AVX-512" : Avx2.IsSupported ? (Fma.IsSupported ? "AVX2+FMA" : "AVX2") : Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar");

            // Which int8 kernel --compute-type int8 would run, so that a user sees before loading a model whether it can.
            parts.Add(!CpuInt8Weight.IsSupported ? "no int8" : CpuInt8Weight.Resolve(CpuInt8Kernel.Best) == CpuInt8Kernel.AvxVnni ? "int8 on AVX-VNNI" : "int8 on AVX2");
        }

        parts.Add(string.Create(CultureInfo.InvariantCulture, $"{device.ComputeUnits} compute units"));
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"{device.MemoryBytes / (1 << 20)} MiB"));
        if (device.MaxGroupSize is int group)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"max group {group}"));
        }

        if (device.MaxSharedMemoryBytes is int shared)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{shared / 1024} KiB local memory"));
        }

        parts.Add(device.Version);
        return $"{device.Name}: {string.Join(", ", parts)}";
    }
}
