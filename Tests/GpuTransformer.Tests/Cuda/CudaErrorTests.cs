using GpuTransformer.Runtime;
using GpuTransformer.Runtime.Cuda;
using Xunit;

namespace GpuTransformer.Tests.Cuda;

/// <summary>What CUDA failures say, and the small decisions around them, checked without a GPU.</summary>
public sealed class CudaErrorTests
{
    /// <summary>cuda.h's names for the codes users meet, known without the driver.</summary>
    [Theory]
    [InlineData(0, "CUDA_SUCCESS")]
    [InlineData(1, "CUDA_ERROR_INVALID_VALUE")]
    [InlineData(2, "CUDA_ERROR_OUT_OF_MEMORY")]
    [InlineData(3, "CUDA_ERROR_NOT_INITIALIZED")]
    [InlineData(34, "CUDA_ERROR_STUB_LIBRARY")]
    [InlineData(100, "CUDA_ERROR_NO_DEVICE")]
    [InlineData(101, "CUDA_ERROR_INVALID_DEVICE")]
    [InlineData(200, "CUDA_ERROR_INVALID_IMAGE")]
    [InlineData(201, "CUDA_ERROR_INVALID_CONTEXT")]
    [InlineData(209, "CUDA_ERROR_NO_BINARY_FOR_GPU")]
    [InlineData(218, "CUDA_ERROR_INVALID_PTX")]
    [InlineData(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION")]
    [InlineData(400, "CUDA_ERROR_INVALID_HANDLE")]
    [InlineData(500, "CUDA_ERROR_NOT_FOUND")]
    [InlineData(700, "CUDA_ERROR_ILLEGAL_ADDRESS")]
    [InlineData(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES")]
    [InlineData(719, "CUDA_ERROR_LAUNCH_FAILED")]
    [InlineData(803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH")]
    [InlineData(999, "CUDA_ERROR_UNKNOWN")]
    public void CodesHaveTheirCudaHeaderNames(int code, string name) => Assert.Equal(name, CudaException.NameOf(code));

    /// <summary>A code the table lacks still gives a readable name.</summary>
    [Fact]
    public void UnknownCodesAreNamedByNumber() => Assert.Equal("CUresult 12345", CudaException.NameOf(12345));

    /// <summary>The exception is a DeviceException carrying the call, the code and its name.</summary>
    [Fact]
    public void ExceptionCarriesTheNativeStatus()
    {
        DeviceException e = new CudaException("cuMemAlloc_v2", 2, CudaException.NameOf(2), "out of device memory on cuda:0 allocating 1,024 bytes: 0 of 80 bytes are free");
        var cuda = Assert.IsType<CudaException>(e);
        Assert.Equal("cuMemAlloc_v2", cuda.Call);
        Assert.Equal(2, cuda.ErrorCode);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", cuda.ErrorName);
        Assert.Contains("1,024 bytes", cuda.Message, StringComparison.Ordinal);
    }

    /// <summary>PTX targets the device's capability, lowered to the newest one NVRTC knows when the device is newer.</summary>
    [Theory]
    [InlineData(90, new[] { 50, 60, 70, 75, 80, 86, 89, 90 }, "compute_90")]
    [InlineData(120, new[] { 75, 80, 86, 89, 90 }, "compute_90")]
    [InlineData(87, new[] { 75, 80, 86, 89, 90 }, "compute_86")]
    [InlineData(86, new int[0], "compute_86")]
    [InlineData(61, new[] { 75, 80 }, "compute_61")]
    public void ArchitectureFollowsTheDeviceAndTheCompiler(int device, int[] supported, string expected) =>
        Assert.Equal(expected, CudaKernelCompiler.ChooseArchitecture(device, supported));

    /// <summary>cuDriverGetVersion's number reads as the toolkit version it matches.</summary>
    [Theory]
    [InlineData(12040, "12.4")]
    [InlineData(11080, "11.8")]
    [InlineData(13000, "13.0")]
    [InlineData(12090, "12.9")]
    public void DriverVersionsAreFormatted(int version, string text) => Assert.Equal(text, CudaProvider.FormatDriverVersion(version));

    /// <summary>NVRTC is probed under the versioned names toolkits install, not only the development symlink.</summary>
    [Fact]
    public void NvrtcIsProbedUnderVersionedNames()
    {
        var candidates = Nvrtc.Candidates();
        if (OperatingSystem.IsLinux())
        {
            Assert.Contains("libnvrtc.so", candidates);
            Assert.Contains("libnvrtc.so.13", candidates);
            Assert.Contains("libnvrtc.so.12", candidates);
            Assert.Contains("libnvrtc.so.11.2", candidates);
            Assert.Contains("/usr/local/cuda/lib64/libnvrtc.so.12", candidates);
        }
    }

    /// <summary>Without NVRTC the reason names what was tried and how to point at it; nothing throws.</summary>
    [Fact]
    public void MissingNvrtcIsAReasonNotACrash()
    {
        var nvrtc = Nvrtc.TryLoad(out string? problem);
        if (nvrtc is null)
        {
            Assert.Contains("NVRTC not found", problem, StringComparison.Ordinal);
            Assert.Contains(Nvrtc.LibraryVariable, problem, StringComparison.Ordinal);
            Assert.StartsWith("nothing: NVRTC not found", CudaAccelerator.CompilerStatus, StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(problem);
            Assert.Matches(@"^\d+\.\d+$", nvrtc.Version);
        }
    }
}
