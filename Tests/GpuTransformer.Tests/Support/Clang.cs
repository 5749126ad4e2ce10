using System.Diagnostics;

namespace GpuTransformer.Tests.Support;

/// <summary>Runs clang-14, the compiler that checks generated device code on machines without a GPU.</summary>
public static class Clang
{
    /// <summary>The executable.</summary>
    public const string Executable = "clang-14";

    /// <summary>
    /// What a stand-alone clang needs before generated CUDA C: NVRTC predefines the qualifiers, the thread-index
    /// variables, the float math functions and <c>__int_as_float</c>; with <c>-nocudainc</c> clang has only the
    /// builtin variables' header, so the rest is declared here exactly as CUDA's headers declare it.
    /// </summary>
    public const string CudaPrelude = """
        #define __global__ __attribute__((global))
        #define __device__ __attribute__((device))
        #define __shared__ __attribute__((shared))
        #include "__clang_cuda_builtin_vars.h"
        extern "C" {
        __device__ float expf(float); __device__ float logf(float); __device__ float sqrtf(float);
        __device__ float rsqrtf(float); __device__ float tanhf(float); __device__ float erff(float);
        __device__ float powf(float, float); __device__ float floorf(float); __device__ float fabsf(float);
        __device__ float fmaxf(float, float); __device__ float fminf(float, float); __device__ float fmaf(float, float, float);
        }
        #define __int_as_float(x) __builtin_bit_cast(float, (int)(x))

        """;

    /// <summary>Why clang-14 cannot run here, or null when it can.</summary>
    public static string? AbsentBecause { get; } = Probe();

    /// <summary>Runs clang with <paramref name="arguments"/>; returns its exit code and everything it printed.</summary>
    /// <param name="arguments">The arguments.</param>
    /// <returns>Exit code and output.</returns>
    public static (int ExitCode, string Output) Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string? Probe()
    {
        try
        {
            var (code, output) = Run("--version");
            return code == 0 ? null : $"{Executable} --version failed: {output}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{Executable} not found ({e.Message}); install it with apt-get install clang-14";
        }
    }
}
