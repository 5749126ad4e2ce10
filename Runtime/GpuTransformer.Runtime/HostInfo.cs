using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuTransformer.Runtime;

/// <summary>What the host processor is and which SIMD it offers.</summary>
public static class HostInfo
{
    /// <summary>The processor's model name from /proc/cpuinfo, or the architecture when unavailable.</summary>
    public static string ProcessorName { get; } = ReadProcessorName();

    /// <summary>The widest SIMD the CPU ops use here: AVX-512, AVX2+FMA, 128-bit or scalar.</summary>
    public static string SimdDescription =>
        Vector512.IsHardwareAccelerated ? "AVX-512" : Avx2.IsSupported ? (Fma.IsSupported ? "AVX2+FMA" : "AVX2") : Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar";

    private static string ReadProcessorName()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
