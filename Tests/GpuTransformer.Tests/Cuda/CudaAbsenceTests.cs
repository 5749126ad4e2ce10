using System.Runtime.InteropServices;
using GpuTransformer.Cli;
using GpuTransformer.Runtime;
using Xunit;

namespace GpuTransformer.Tests.Cuda;

/// <summary>
/// A machine without CUDA (this project's CI, most laptops): the backend says why it is absent, in the device list,
/// in the error of an explicit request and in <c>devices</c>, and nothing crashes.
/// </summary>
public sealed class CudaAbsenceTests
{
    private static readonly bool DriverLibraryPresent = NativeLibrary.TryLoad("libcuda.so.1", out _);

    private static bool HasCudaDevice => DeviceCatalog.Enumerate().Any(d => d.Kind == AcceleratorKind.Cuda);

    /// <summary>Enumerate lists CUDA devices, or one <c>cuda: ...</c> line saying why there are none.</summary>
    [Fact]
    public void EnumerateGivesCudaDevicesOrTheReasonThereAreNone()
    {
        var devices = DeviceCatalog.Enumerate(out var problems);
        var cudaProblems = problems.Where(p => p.StartsWith("cuda: ", StringComparison.Ordinal)).ToArray();
        if (devices.Any(d => d.Kind == AcceleratorKind.Cuda))
        {
            Assert.Empty(cudaProblems);
            Assert.All(devices.Where(d => d.Kind == AcceleratorKind.Cuda), d =>
            {
                Assert.Matches("^cuda:[0-9]+$", d.Id);
                Assert.Contains("sm_", d.Version, StringComparison.Ordinal);
                Assert.True(d.IsGpu);
                Assert.True(d.MemoryBytes > 0);
            });
            return;
        }

        string line = Assert.Single(cudaProblems);
        if (!DriverLibraryPresent)
        {
            Assert.Equal("cuda: libcuda.so.1 not found (no NVIDIA driver)", line);
        }
        else
        {
            // A driver without a usable GPU: the reason names the CUresult (CUDA_ERROR_NO_DEVICE, ...).
            Assert.Contains("CUDA_ERROR_", line, StringComparison.Ordinal);
        }
    }

    /// <summary>Asking for cuda where there is none is a NotSupportedException that says why.</summary>
    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    [InlineData("CUDA:1")]
    public void OpeningAnAbsentCudaDeviceSaysWhy(string id)
    {
        if (HasCudaDevice)
        {
            return;
        }

        var e = Assert.Throws<NotSupportedException>(() => DeviceCatalog.Open(id));
        Assert.Contains("no cuda devices", e.Message, StringComparison.Ordinal);
        Assert.Contains(DriverLibraryPresent ? "CUDA_ERROR_" : "libcuda.so.1 not found", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A device number past the last device is refused even where CUDA is present.</summary>
    [Fact]
    public void OpeningADeviceNumberPastTheLastIsRefused()
    {
        var e = Assert.Throws<NotSupportedException>(() => DeviceCatalog.Open("cuda:4096"));
        Assert.Contains("cuda:4096", e.Message, StringComparison.Ordinal);
    }

    /// <summary>auto falls back past an absent CUDA without an exception.</summary>
    [Fact]
    public void AutoWorksWithoutCuda()
    {
        using var accelerator = DeviceCatalog.Open("auto");
        if (!HasCudaDevice)
        {
            Assert.NotEqual(AcceleratorKind.Cuda, accelerator.Kind);
        }
        else
        {
            Assert.Equal(AcceleratorKind.Cuda, accelerator.Kind);
        }
    }

    /// <summary><c>devices</c> prints the CUDA devices or the reason, and succeeds either way.</summary>
    [Fact]
    public void DevicesCommandReportsCuda()
    {
        var output = new StringWriter();
        int code = DevicesCommand.Run(new CommandArguments([]), output);
        Assert.Equal(0, code);
        string text = output.ToString();
        if (HasCudaDevice)
        {
            Assert.Matches("(?m)^cuda:0 +.*sm_[0-9]+", text);
            Assert.Contains("kernels compiled with", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.Matches("(?m)^absent: cuda: ", text);
        }
    }
}
